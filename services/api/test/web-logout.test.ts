// Logout ends the web session on the server: a copy of the cookie (or of the
// bearer token) stops working, for the API and for jmp-socket's web
// credentials alike. A new password ends every earlier session of the person.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, addUser, webLogin, type TestApi } from './harness.js';

const PW = 'correct horse battery';
let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

const sessionOf = (cookie: string) => decodeURIComponent(cookie.slice('jmp_session='.length));

test('logout, then the copied cookie is refused with 401 (API and web credentials)', async () => {
  const u = await addUser(api.db, { password: PW });
  const { cookie: h } = await webLogin(api, u.username, PW);
  const copied = { ...h };
  assert.equal((await api.call('GET', '/v1/me', { headers: copied })).status, 200);
  const out = await api.call('POST', '/v1/auth/logout', { headers: h });
  assert.ok(out.status < 300, String(out.status));
  assert.match(out.headers.get('set-cookie') ?? '', /jmp_session=;/);
  const me = await api.call('GET', '/v1/me', { headers: copied });
  assert.equal(me.status, 401);
  const bearer = await api.call('GET', '/v1/me', { auth: `Bearer ${sessionOf(copied.cookie)}` });
  assert.equal(bearer.status, 401);
  const cred = await api.call('POST', '/v1/web/ssh-credentials', {
    auth: `Bearer ${api.serviceToken('socket')}`,
    body: { session: sessionOf(copied.cookie) },
  });
  assert.equal(cred.status, 401);
  assert.match(cred.body.error.message, /session was ended/);
  assert.equal((await api.db('audit_events').where({ action: 'auth.logout', target: u.username })).length, 1);
});

test('logout ends only that session; another login of the same person keeps working', async () => {
  const u = await addUser(api.db, { password: PW });
  const a = (await webLogin(api, u.username, PW)).cookie;
  const b = (await webLogin(api, u.username, PW)).cookie;
  await api.call('POST', '/v1/auth/logout', { headers: a });
  assert.equal((await api.call('GET', '/v1/me', { headers: a })).status, 401);
  assert.equal((await api.call('GET', '/v1/me', { headers: b })).status, 200);
});

test('an administrator setting a new password ends the earlier sessions of that person', async () => {
  const u = await addUser(api.db, { password: PW });
  const before = (await webLogin(api, u.username, PW)).cookie;
  const set = await api.call('POST', `/v1/users/${u.id}/password`, {
    auth: `Bearer ${api.serviceToken('admin')}`,
    body: { password: 'a brand new password' },
  });
  assert.ok(set.status < 300, JSON.stringify(set.body));
  assert.equal((await api.call('GET', '/v1/me', { headers: before })).status, 401);
  const after = (await webLogin(api, u.username, 'a brand new password')).cookie;
  assert.equal((await api.call('GET', '/v1/me', { headers: after })).status, 200);
});

test('logout without a session (or with a forged one) just clears the cookie', async () => {
  assert.ok((await api.call('POST', '/v1/auth/logout')).status < 300);
  assert.ok(
    (await api.call('POST', '/v1/auth/logout', { headers: { cookie: 'jmp_session=eyJhbGciOiJIUzI1NiJ9.e30.xxx' } }))
      .status < 300,
  );
});
