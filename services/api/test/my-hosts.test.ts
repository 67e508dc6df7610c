// "My hosts": exactly the hosts decide() lets the person log in to.
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
  addDepartment,
  webLogin,
  type TestApi,
} from './harness.js';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('roles, person and department grants; expired grants and other hosts excluded; root flag', async () => {
  const p = await addProject(api.db);
  const web = await addService(api.db, p.id, 'web');
  const dbs = await addService(api.db, p.id, 'db');
  const other = await addService(api.db, (await addProject(api.db)).id);
  const w1 = await addHost(api.db, { hostname: 'w1', service_id: web.id, state: 'online' });
  const w2 = await addHost(api.db, { hostname: 'w2', service_id: web.id, state: 'offline' });
  const d1 = await addHost(api.db, { hostname: 'd1', service_id: dbs.id });
  const o1 = await addHost(api.db, { hostname: 'o1', service_id: other.id });
  const o2 = await addHost(api.db, { hostname: 'o2', service_id: other.id });
  const dept = await addDepartment(api.db);
  const u = await addUser(api.db, {
    department_id: (await addDepartment(api.db, { parent_id: dept.id })).id,
    password: 'long enough password',
  });
  await addRole(api.db, u.id, 'service', web.id, 'owner');
  await addGrant(api.db, {
    subject_type: 'department',
    subject_id: dept.id,
    scope_type: 'host',
    scope_id: o1.id,
    right: 'root',
  });
  await addGrant(api.db, {
    subject_id: u.id,
    scope_type: 'host',
    scope_id: d1.id,
    right: 'login',
    valid_from: new Date(Date.now() - 7200_000),
    valid_until: new Date(Date.now() - 3600_000),
  });
  void w1;
  void w2;
  void o2;

  const r = await api.call('GET', `/v1/access/hosts?user=${u.username}`, { auth: `Bearer ${api.serviceToken('ssh')}` });
  assert.equal(r.status, 200);
  assert.deepEqual(
    r.body.hosts.map((h: any) => [h.hostname, h.root]),
    [
      ['o1', true],
      ['w1', false],
      ['w2', true],
    ],
  );
  assert.match(r.body.hosts[1].reason, /owner of service web/);

  const { cookie } = await webLogin(api, u.username, 'long enough password');
  const me = await api.call('GET', '/v1/me/hosts', { headers: cookie });
  assert.deepEqual(
    me.body.hosts.map((h: any) => h.hostname),
    ['o1', 'w1', 'w2'],
  );

  assert.equal(
    (await api.call('GET', '/v1/access/hosts?user=nobody', { auth: `Bearer ${api.serviceToken('ssh')}` })).status,
    404,
  );
  assert.equal(
    (await api.call('GET', '/v1/access/hosts?user=Bad', { auth: `Bearer ${api.serviceToken('ssh')}` })).status,
    400,
  );
});
