// The shared typed client (@jmp/contract) against a real jmp-api.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, ApiError } from '@jmp/contract';
import { startApi, addUser, addProject, addService, addHost, addRole, type TestApi } from './harness.js';
import { hostIdentity } from './host-identity.js';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('service calls, host calls, 304 and typed errors', async () => {
  const p = await addProject(api.db);
  const s = await addService(api.db, p.id);
  const id = hostIdentity();
  const host = await addHost(api.db, { service_id: s.id, agent_public_key: id.publicKeyPem });
  const u = await addUser(api.db, { password: 'long enough password' });
  await addRole(api.db, u.id, 'service', s.id, 'ops');

  const ssh = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  assert.equal(
    (await ssh.authSsh({ method: 'password', username: u.username, password: 'long enough password' })).username,
    u.username,
  );
  assert.deepEqual(
    (await ssh.myHosts(u.username)).map((h) => h.hostname),
    [host.hostname],
  );
  const t = await ssh.ticket({ user: u.username, host: host.hostname });

  const agent = new ApiClient({ baseUrl: api.url, authorization: () => id.token(host.id) });
  assert.deepEqual((await agent.pamDecide({ op: 'auth', user: u.username, ticket: t.ticket })).allow, true);
  const first = await agent.policy();
  assert.ok('snapshot' in first);
  assert.equal(first.snapshot.users[0]!.username, u.username);
  assert.match(first.version ?? '', /^\d+$/);
  assert.deepEqual(await agent.policy(first.etag), { unchanged: true, version: first.version });

  await assert.rejects(
    ssh.authSsh({ method: 'password', username: u.username, password: 'wrong' }),
    (e: unknown) => e instanceof ApiError && e.code === 'unauthorized' && e.httpStatus === 401,
  );
  await assert.rejects(
    ssh.ticket({ user: u.username, host: 'missing-host' }),
    (e: unknown) => e instanceof ApiError && e.code === 'not_found',
  );
});

test('an unreachable jmp-api is a clear "unavailable" error within the timeout', async () => {
  const c = new ApiClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 500 });
  await assert.rejects(
    c.policy(),
    (e: unknown) =>
      e instanceof ApiError && e.code === 'unavailable' && e.httpStatus === 0 && /did not answer/.test(e.message),
  );
});
