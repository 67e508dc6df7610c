// Desktop tokens: issued to a person with the login right, redeemed once by
// jmp-rdp for that person's web session, never carrying a secret.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { startApi, addUser, addHost, addGrant, webLogin, type TestApi } from './harness.js';
import { sealDesktopToken } from '../src/desktop/token.js';

let api: TestApi;
let rdpAuth: string;
before(async () => {
  api = await startApi();
  rdpAuth = `Bearer ${api.serviceToken('rdp')}`;
});
after(async () => {
  await api.close();
});

const PW = 'correct horse battery';
async function person(withRight: boolean, kind = 'linux') {
  const u = await addUser(api.db, { password: PW });
  const h = await addHost(api.db, { kind, addresses: ['10.9.0.7'] });
  if (withRight) await addGrant(api.db, { subject_id: u.id, scope_type: 'host', scope_id: h.id, right: 'login' });
  const { cookie } = await webLogin(api, u.username, PW);
  return { u, h, headers: cookie, session: cookie.cookie.replace(/^jmp_session=/, '') };
}
const ask = (headers: Record<string, string>, host: string) =>
  api.call('POST', '/v1/desktop/tokens', { headers, body: { host } });
const redeem = (token: string, session: string, auth = rdpAuth) =>
  api.call('POST', '/v1/desktop/redeem', { auth, body: { token, session } });

describe('desktop tokens', () => {
  test('a person with the login right gets a token in guacamole-lite format that holds no secret', async () => {
    const p = await person(true);
    const r = await ask(p.headers, p.h.hostname);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.credentials, 'ticket');
    const ttl = Date.parse(r.body.expiresAt) - Date.now();
    assert.ok(ttl > 0 && ttl <= 60_000, `expires in ${ttl} ms`);
    const outer = JSON.parse(Buffer.from(r.body.token, 'base64').toString());
    const d = createDecipheriv('aes-256-cbc', api.ctx.secrets.desktopKey, Buffer.from(outer.iv, 'base64'));
    const inner = JSON.parse(Buffer.concat([d.update(Buffer.from(outer.value, 'base64')), d.final()]).toString());
    assert.equal(inner.connection.type, 'rdp');
    assert.deepEqual(Object.keys(inner.connection.settings), ['hostname']);
    assert.equal(inner.jmp.user, p.u.username);
    assert.equal(inner.jmp.hostId, p.h.id);
    assert.doesNotMatch(JSON.stringify(inner), /password|ticket/i);
  });
  test('a person without the right is refused and the refusal is audited', async () => {
    const p = await person(false);
    const r = await ask(p.headers, p.h.hostname);
    assert.equal(r.status, 403);
    const a = await api
      .db('audit_events')
      .where({ action: 'desktop.denied', target: `${p.u.username}@${p.h.hostname}` });
    assert.equal(a.length, 1);
  });
  test('without a session there is no token', async () => {
    const p = await person(true);
    assert.equal((await api.call('POST', '/v1/desktop/tokens', { body: { host: p.h.hostname } })).status, 401);
  });
  test('jmp-rdp redeems once for the same person: target, credentials and policy; a replay is refused', async () => {
    const p = await person(true, 'windows');
    const t = (await ask(p.headers, p.h.hostname)).body;
    assert.equal(t.credentials, 'typed');
    const r = await redeem(t.token, p.session);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.user, p.u.username);
    assert.deepEqual(r.body.host, {
      id: p.h.id,
      hostname: p.h.hostname,
      kind: 'windows',
      address: '10.9.0.7',
      port: 3389,
    });
    assert.deepEqual(r.body.policy, { clipboard: false, drive: false }); // production host: clipboard off
    const again = await redeem(t.token, p.session);
    assert.equal(again.status, 401);
    assert.match(again.body.error.message, /already used/);
  });
  test("another person's session cannot redeem the token, and does not burn it", async () => {
    const p = await person(true);
    const q = await person(true);
    const t = (await ask(p.headers, p.h.hostname)).body;
    const r = await redeem(t.token, q.session);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /another person/);
    assert.equal((await redeem(t.token, p.session)).status, 200);
  });
  test('an expired, forged or garbled token is refused', async () => {
    const p = await person(true);
    const claims = { jti: 'x'.repeat(22), uid: p.u.id, user: p.u.username, hostId: p.h.id, exp: Date.now() - 1 };
    const expired = sealDesktopToken(api.ctx.secrets.desktopKey, p.h.hostname, claims);
    assert.match((await redeem(expired, p.session)).body.error.message, /expired/);
    // Sealed with the right key but never issued (the store has no record): refused.
    const forged = sealDesktopToken(api.ctx.secrets.desktopKey, p.h.hostname, { ...claims, exp: Date.now() + 30_000 });
    assert.equal((await redeem(forged, p.session)).status, 401);
    assert.equal((await redeem('bm90IGEgdG9rZW4=', p.session)).status, 401);
  });
  test('a right revoked after the token was issued is refused at redeem', async () => {
    const p = await person(true);
    const t = (await ask(p.headers, p.h.hostname)).body;
    await api.db('grants').where({ subject_id: p.u.id }).update({ revoked_at: new Date() });
    assert.equal((await redeem(t.token, p.session)).status, 403);
  });
  test('only the rdp service role may redeem', async () => {
    const p = await person(true);
    const t = (await ask(p.headers, p.h.hostname)).body;
    assert.equal((await redeem(t.token, p.session, `Bearer ${api.serviceToken('ssh')}`)).status, 403);
  });
});
