// Database rights: the defaults table and grants, each level including the lower ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideDb, dbLevels, grantLevel } from './db-rights.js';
import type { DecideGrant, DecideHost, DecideRole } from './decide.js';

const alice = { id: 1, username: 'alice', status: 'active' as const, departmentIds: [10, 1] };
const host = (state: 'online' | 'offline'): DecideHost => ({
  id: 5,
  hostname: 'db-01',
  state,
  serviceId: 7,
  projectId: 3,
});
const role = (r: 'owner' | 'ops', scopeType: 'service' | 'project' = 'service'): DecideRole => ({
  scopeType,
  scopeId: scopeType === 'service' ? 7 : 3,
  role: r,
});
const grant = (right: DecideGrant['right'], over: Partial<DecideGrant> = {}): DecideGrant => ({
  id: 9,
  subjectType: 'user',
  subjectId: 1,
  scopeType: 'host',
  scopeId: 5,
  right,
  validFrom: new Date(0),
  validUntil: null,
  ...over,
});

test('defaults: ops write on non-production, read on production; owners read', () => {
  const table: Array<[DecideRole, 'online' | 'offline', string]> = [
    [role('ops'), 'offline', 'write'],
    [role('ops'), 'online', 'read'],
    [role('ops', 'project'), 'offline', 'write'],
    [role('owner'), 'offline', 'read'],
    [role('owner'), 'online', 'read'],
  ];
  for (const [r, state, want] of table) {
    assert.equal(decideDb(alice, host(state), 'mariadb', [r], []).level, want, `${r.role} ${state}`);
    assert.equal(decideDb(alice, host(state), 'redis', [r], []).level, want);
  }
});

test('no role, no grant: no right, with a reason that says how to get one', () => {
  const d = decideDb(
    alice,
    host('offline'),
    'mariadb',
    [role('ops', 'service')].map((r) => ({ ...r, scopeId: 99 })),
    [],
  );
  assert.equal(d.level, null);
  assert.match(d.reason, /no mariadb right for alice on db-01; request access/u);
});

test('grants: per kind, the highest level wins, expired and revoked ones do not count', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.equal(decideDb(alice, host('online'), 'mariadb', [role('ops')], [grant('mariadb_admin')], now).level, 'admin');
  assert.equal(decideDb(alice, host('online'), 'redis', [], [grant('mariadb_admin')], now).level, null);
  assert.equal(
    decideDb(
      alice,
      host('online'),
      'mariadb',
      [role('owner')],
      [grant('mariadb_write', { validUntil: new Date(1) })],
      now,
    ).level,
    'read',
  );
  assert.equal(
    decideDb(alice, host('online'), 'mariadb', [], [grant('mariadb_write', { revokedAt: new Date(1) })], now).level,
    null,
  );
  const dept = grant('redis_write', { subjectType: 'department', subjectId: 1, scopeType: 'project', scopeId: 3 });
  assert.equal(decideDb(alice, host('online'), 'redis', [], [dept], now).level, 'write');
  assert.deepEqual(dbLevels(alice, host('online'), [role('owner')], [dept], now), { mariadb: 'read', redis: 'write' });
});

test('login and root grants give no database right', () => {
  assert.equal(grantLevel('root', 'mariadb'), null);
  assert.equal(grantLevel('redis_read', 'mariadb'), null);
  assert.equal(grantLevel('mariadb_write', 'mariadb'), 'write');
  assert.equal(decideDb({ ...alice, status: 'disabled' }, host('offline'), 'mariadb', [role('ops')], []).level, null);
});
