// A jmp user never becomes a local account: on a target the local passwd
// entry wins over libnss_jmp, so system account names (built in) and the
// operator's JMP_RESERVED_USERNAMES are refused when a user is created.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './harness.js';
import { SYSTEM_USERNAMES, reservedUsernameReason } from '@jmp/contract/schemas/usernames';
import { JMP_USERS_GROUP } from '../src/agents/snapshot.js';

let api: TestApi;
let admin: string;
before(async () => {
  api = await startApi({ env: { JMP_RESERVED_USERNAMES: 'svc-deploy, Backup2' } });
  admin = `Bearer ${api.serviceToken('admin')}`;
});
after(async () => {
  await api.close();
});

const create = (username: string) => api.call('POST', '/v1/users', { auth: admin, body: { username } });

for (const name of [
  'postgres',
  'admin',
  'root',
  'ubuntu',
  'ec2-user',
  'www-data',
  'sudo',
  'systemd-network',
  '_apt',
  'jmp-users',
  'jmp-ssh',
]) {
  test(`${name} is refused with 400 naming the field`, async () => {
    const r = await create(name);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.error.message, /^body\.username: .*(system account|reserved).*choose another username$/);
    assert.equal((await api.db('users').where({ username: name })).length, 0);
  });
}

test('names from JMP_RESERVED_USERNAMES are refused too (trimmed, any case)', async () => {
  for (const name of ['svc-deploy', 'backup2']) {
    const r = await create(name);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.match(r.body.error.message, /reserved by this jmp installation \(JMP_RESERVED_USERNAMES\)/);
  }
});

test('ordinary names are still accepted', async () => {
  for (const name of ['alice', 'postgres2', 'admins-team', 'rooted'])
    assert.equal((await create(name)).status, 201, name);
});

test('the group jmp puts on every target is in the built-in list', () => {
  assert.ok(SYSTEM_USERNAMES.has(JMP_USERS_GROUP.name));
  assert.ok(reservedUsernameReason(JMP_USERS_GROUP.name));
});

test('the demo organisation uses no reserved name', async () => {
  const { seedDemo } = await import('../src/dev/seed-demo.js');
  const { createTestDatabase } = await import('./harness.js');
  const { createDb, migrate } = await import('../src/db/knex.js');
  const handle = await createTestDatabase();
  const db = createDb(handle.url);
  try {
    await migrate(db);
    const creds = await seedDemo(db);
    assert.ok(creds && creds.users.length > 0);
    for (const u of creds.users) assert.equal(reservedUsernameReason(u.username), null, u.username);
  } finally {
    await db.destroy();
    await handle.drop();
  }
});
