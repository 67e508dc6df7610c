// One-time web credentials: issued to jmp-socket for a web session, spent
// once by jmp-ssh through POST /v1/auth/ssh (method web-credential).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startApi, addUser, webLogin, type TestApi } from './harness.js';
import { sha256hex } from '../src/crypto/secrets.js';

let api: TestApi;
let socketAuth: string, sshAuth: string;
before(async () => {
  api = await startApi();
  socketAuth = `Bearer ${api.serviceToken('socket')}`;
  sshAuth = `Bearer ${api.serviceToken('ssh')}`;
});
after(async () => {
  await api.close();
});

const sessionOf = (cookie: string) => cookie.replace(/^jmp_session=/, '');

async function loggedIn() {
  const u = await addUser(api.db, { password: 'correct horse battery' });
  const { cookie } = await webLogin(api, u.username, 'correct horse battery');
  return { u, session: sessionOf(cookie.cookie) };
}
const issue = (session: string, auth = socketAuth) =>
  api.call('POST', '/v1/web/ssh-credentials', { auth, body: { session } });
const spend = (username: string, credential: string, auth = sshAuth) =>
  api.call('POST', '/v1/auth/ssh', { auth, body: { method: 'web-credential', username, credential } });

describe('POST /v1/web/ssh-credentials', () => {
  test('a valid session gets a jmpw_ credential for its user, stored only as a hash', async () => {
    const { u, session } = await loggedIn();
    const r = await issue(session);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.username, u.username);
    assert.match(r.body.credential, /^jmpw_[A-Za-z0-9_-]{43}$/);
    const ttl = Date.parse(r.body.expiresAt) - Date.now();
    assert.ok(ttl > 25_000 && ttl <= 30_000, `expires in ${ttl} ms`);
    assert.ok(Date.parse(r.body.sessionExpiresAt) > Date.now() + 3600_000);
    assert.equal(await api.ctx.store.get(`webcred:${sha256hex(r.body.credential)}`), String(u.id));
    assert.equal(await api.ctx.store.get(`webcred:${r.body.credential}`), null);
  });
  test('each call gets a different credential', async () => {
    const { session } = await loggedIn();
    const [a, b] = await Promise.all([issue(session), issue(session)]);
    assert.notEqual(a.body.credential, b.body.credential);
  });
  test('an expired session is told to log in again', async () => {
    const u = await addUser(api.db);
    const expired = jwt.sign(
      { uid: u.id, csrf: 'x', exp: Math.floor(Date.now() / 1000) - 10 },
      api.ctx.secrets.sessionKey,
      { algorithm: 'HS256', audience: 'jmp-session', subject: u.username },
    );
    const r = await issue(expired);
    assert.equal(r.status, 401);
    assert.equal(r.body.error.message, 'your web session expired, log in again');
  });
  test('a forged or foreign session is refused', async () => {
    const u = await addUser(api.db);
    const forged = jwt.sign({ uid: u.id, csrf: 'x' }, 'not the session key', {
      algorithm: 'HS256',
      audience: 'jmp-session',
      subject: u.username,
      expiresIn: 60,
    });
    const r = await issue(forged);
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /web session is not valid; log in again/);
    assert.equal((await issue('garbage')).status, 401);
  });
  test('a user disabled since the login gets 401 saying so', async () => {
    const { u, session } = await loggedIn();
    await api.db('users').where({ id: u.id }).update({ status: 'disabled' });
    const r = await issue(session);
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, new RegExp(`user ${u.username} is disabled`));
  });
  test('only the socket service may ask', async () => {
    const { session } = await loggedIn();
    assert.equal((await issue(session, '')).status, 401);
    const r = await issue(session, sshAuth);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /service role ssh may not call this endpoint/);
  });
  test('a missing session is a 400 naming the field', async () => {
    const r = await api.call('POST', '/v1/web/ssh-credentials', { auth: socketAuth, body: {} });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.session: /);
  });
  test('the endpoint is in the OpenAPI document', async () => {
    const r = await api.call('GET', '/v1/openapi.json');
    assert.ok(r.body.paths['/v1/web/ssh-credentials']?.post);
  });
});

describe('POST /v1/auth/ssh method web-credential', () => {
  test('logs the user in once; a second use is refused', async () => {
    const { u, session } = await loggedIn();
    const { credential } = (await issue(session)).body;
    const ok = await spend(u.username, credential);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.user.username, u.username);
    const again = await spend(u.username, credential);
    assert.equal(again.status, 401);
    assert.match(again.body.error.message, /already used/);
    const audit = await api
      .db('audit_events')
      .where({ action: 'auth.login', target: u.username })
      .orderBy('id', 'desc')
      .first();
    assert.equal(audit.data.method, 'web-credential');
  });
  test('of concurrent uses exactly one succeeds', async () => {
    const { u, session } = await loggedIn();
    const { credential } = (await issue(session)).body;
    const results = await Promise.all(Array.from({ length: 10 }, () => spend(u.username, credential)));
    assert.deepEqual(results.map((r) => r.status).sort(), [200, ...Array(9).fill(401)]);
  });
  test('bound to its user: another username cannot use it', async () => {
    const { session } = await loggedIn();
    const other = await addUser(api.db);
    const { credential } = (await issue(session)).body;
    const r = await spend(other.username, credential);
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /belongs to another user/);
  });
  test('an unknown credential is refused', async () => {
    const u = await addUser(api.db);
    const r = await spend(u.username, `jmpw_${'A'.repeat(43)}`);
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /unknown or expired/);
  });
  test('a malformed credential is a 400', async () => {
    const u = await addUser(api.db);
    const r = await spend(u.username, 'jmpw_short');
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.credential: /);
  });
  test('only jmp-ssh may spend one', async () => {
    const { u, session } = await loggedIn();
    const { credential } = (await issue(session)).body;
    const r = await spend(u.username, credential, `Bearer ${api.serviceToken('sftp')}`);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /only jmp-ssh/);
    assert.equal((await spend(u.username, credential)).status, 200, 'the refused attempt did not spend it');
  });
  test('a user disabled after the credential was issued is refused', async () => {
    const { u, session } = await loggedIn();
    const { credential } = (await issue(session)).body;
    await api.db('users').where({ id: u.id }).update({ status: 'disabled' });
    const r = await spend(u.username, credential);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /is disabled/);
  });
  test('expires after its lifetime (JMP_WEB_CREDENTIAL_TTL_SECONDS, here 1 s)', async () => {
    const short = await startApi({ env: { JMP_WEB_CREDENTIAL_TTL_SECONDS: '1' } });
    try {
      const u = await addUser(short.db, { password: 'correct horse battery' });
      const { cookie } = await webLogin(short, u.username, 'correct horse battery');
      const r0 = await short.call('POST', '/v1/web/ssh-credentials', {
        auth: `Bearer ${short.serviceToken('socket')}`,
        body: { session: sessionOf(cookie.cookie) },
      });
      assert.equal(r0.status, 200);
      const ttl = Date.parse(r0.body.expiresAt) - Date.now();
      assert.ok(ttl > 0 && ttl <= 1000, `expires in ${ttl} ms`);
      await new Promise((r) => setTimeout(r, 1500));
      const r = await short.call('POST', '/v1/auth/ssh', {
        auth: `Bearer ${short.serviceToken('ssh')}`,
        body: { method: 'web-credential', username: u.username, credential: r0.body.credential },
      });
      assert.equal(r.status, 401);
      assert.match(r.body.error.message, /unknown or expired/);
    } finally {
      await short.close();
    }
  });
});
