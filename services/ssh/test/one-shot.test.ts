// One-shot commands on the ssh command line (`ssh alice@jmp <line>`): a host's
// name runs there, otherwise the jump shell's own commands answer and exit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startApi,
  addUser,
  addProject,
  addService,
  addHost,
  addRole,
  addGrant,
  type TestApi,
} from '../../api/test/harness.js';
import { startJmpSsh, login, exec, type RunningSsh } from './jmp-ssh.js';
import type { Client } from 'ssh2';

let api: TestApi, ssh: RunningSsh, client: Client, bob: Client;
before(async () => {
  api = await startApi();
  ssh = await startJmpSsh(api);
  const p = await addProject(api.db, 'shop');
  const s = await addService(api.db, p.id, 'web');
  const alice = await addUser(api.db, { password: 'alice password 1' });
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
  const web = await addHost(api.db, { hostname: 'web-01', service_id: s.id, addresses: ['10.231.0.50'] });
  // bob may log in to web-01 and nothing more (no database right).
  const b = await addUser(api.db, { password: 'bob password 1' });
  await addGrant(api.db, { subject_id: b.id, scope_type: 'host', scope_id: web.id, right: 'login' });
  // A host named like a command word: the host wins.
  await addHost(api.db, { hostname: 'databases', service_id: s.id, addresses: ['10.231.0.53'] });
  ({ client } = await login(ssh.port, alice.username, { password: 'alice password 1' }));
  ({ client: bob } = await login(ssh.port, b.username, { password: 'bob password 1' }));
});
after(async () => {
  client?.end();
  bob?.end();
  await ssh.close();
  await api.close();
});

test('help and info answer and exit 0', async () => {
  const help = await exec(client, 'help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /jmp jump shell/);
  const info = await exec(client, 'info web-01');
  assert.equal(info.code, 0);
  assert.match(info.stdout, /web-01 {2}10\.231\.0\.50 {2}shop\/web/);
});

test('a database terminal without the right is refused with the reason, exit 1', async () => {
  const r = await exec(bob, 'mysql web-01');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /you have no MariaDB right on web-01; request one in jmp/);
  const usage = await exec(client, 'redis');
  assert.equal(usage.code, 1);
  assert.match(usage.stderr, /usage: redis <host>/);
  const none = await exec(client, 'mysql nosuch');
  assert.match(none.stderr, /no host named nosuch among yours/);
});

test('devices where this jmp-ssh has no device key: a clear line, exit 1', async () => {
  const r = await exec(client, 'devices');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /network devices are not available here/);
});

test("a host's name wins over a command word; anything else is not a host", async () => {
  const r = await exec(client, 'databases uptime');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no SSH host key for databases/, 'went to the host named databases');
  const other = await exec(client, 'web uptime');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /no host named web among yours/);
});
