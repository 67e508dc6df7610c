// The jump shell's database commands: `mysql|mariadb|redis <host>` and the `databases` list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MyHost } from '@jmp/contract/schemas/access';
import { parseCommand, renderDatabases } from './menu.js';

const host = (hostname: string, databases?: MyHost['databases']): MyHost => ({
  id: 1,
  hostname,
  addresses: ['10.0.0.1'],
  state: 'offline',
  kind: 'linux',
  service: 'web',
  project: 'shop',
  root: false,
  reason: '',
  ...(databases ? { databases } : {}),
});
const hosts = [
  host('db-01', [
    { kind: 'mariadb', level: 'write' },
    { kind: 'redis', level: 'read' },
  ]),
  host('web-01'),
];

test('mysql, mariadb and redis open a database terminal on a host, by name or number', () => {
  assert.deepEqual(parseCommand('mysql db-01', hosts), { kind: 'database', host: hosts[0], db: 'mariadb' });
  assert.deepEqual(parseCommand('mariadb 1', hosts), { kind: 'database', host: hosts[0], db: 'mariadb' });
  assert.deepEqual(parseCommand('redis db-01', hosts), { kind: 'database', host: hosts[0], db: 'redis' });
  assert.deepEqual(parseCommand('redis', hosts), { kind: 'error', message: 'usage: redis <host>' });
  assert.deepEqual(parseCommand('mysql nope', hosts), { kind: 'error', message: 'no host named nope among yours' });
});

test('a database row opens by its number dN, as listed', () => {
  assert.deepEqual(parseCommand('d2', hosts), { kind: 'database', host: hosts[0], db: 'redis' });
  assert.deepEqual(parseCommand('d3', hosts), { kind: 'error', message: 'no database row d3; "databases" lists 2' });
});

test('databases lists each database target with the level, and says when there is none', () => {
  const out = renderDatabases(hosts);
  assert.match(out, /d1 +db-01 +mariadb +write +non-production +d1 or mysql db-01/u);
  assert.match(out, /d2 +db-01 +redis +read +non-production +d2 or redis db-01/u);
  assert.doesNotMatch(out, /web-01/u);
  assert.match(renderDatabases([host('web-01')]), /no database rights/u);
});
