// Logins to jmp itself: password, TOTP, public key, lockout, web session cookie.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startApi, addUser, type TestApi } from './harness.js';
import { newTotpSecret, totpCode } from '../src/crypto/totp.js';
import { TOTP_PURPOSE } from '../src/auth/login.js';

let api: TestApi;
let ssh: string;
before(async () => {
  api = await startApi({ env: { JMP_LOCKOUT_THRESHOLD: '3', JMP_LOCKOUT_SECONDS: '60' } });
  ssh = `Bearer ${api.serviceToken('ssh')}`;
});
after(async () => {
  await api.close();
});

function sshKeyLine(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const type = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([u32(type.length), type, u32(raw.length), raw]);
  return `ssh-ed25519 ${blob.toString('base64')} test@key`;
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

describe('POST /v1/auth/ssh', () => {
  test('password ok returns the user with uid', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery' });
    const r = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: u.username, password: 'correct horse battery' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.user.username, u.username);
    assert.ok(r.body.user.uid >= 200000);
  });
  test('wrong password and unknown user give the same 401 sentence', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery' });
    const a = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: u.username, password: 'nope' },
    });
    const b = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: 'nosuchuser', password: 'nope' },
    });
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.equal(a.body.error.message, b.body.error.message);
  });
  test('lockout after the threshold, even with the right password', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery' });
    for (let i = 0; i < 3; i++) {
      const r = await api.call('POST', '/v1/auth/ssh', {
        auth: ssh,
        body: { method: 'password', username: u.username, password: 'bad' },
      });
      assert.equal(r.status, 401);
    }
    const r = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: u.username, password: 'correct horse battery' },
    });
    assert.equal(r.status, 423);
    assert.match(r.body.error.message, /is locked after 3 failed logins/);
    const audit = await api.db('audit_events').where({ action: 'auth.locked', target: u.username });
    assert.equal(audit.length, 1);
  });
  test('a disabled user is told so', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery', status: 'disabled' });
    const r = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: u.username, password: 'correct horse battery' },
    });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /is disabled/);
  });
  test('TOTP: required, wrong, right, and not twice', async () => {
    const secret = newTotpSecret();
    const u = await addUser(api.db, {
      password: 'correct horse battery',
      totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE),
    });
    const body = { method: 'password', username: u.username, password: 'correct horse battery' };
    const need = await api.call('POST', '/v1/auth/ssh', { auth: ssh, body });
    assert.equal(need.status, 401);
    assert.equal(need.body.error.code, 'totp_required');
    const wrongCode = String((Number(totpCode(secret)) + 500000) % 1000000).padStart(6, '0');
    assert.equal(
      (await api.call('POST', '/v1/auth/ssh', { auth: ssh, body: { ...body, totp: wrongCode } })).status,
      401,
    );
    const code = totpCode(secret);
    assert.equal((await api.call('POST', '/v1/auth/ssh', { auth: ssh, body: { ...body, totp: code } })).status, 200);
    const replay = await api.call('POST', '/v1/auth/ssh', { auth: ssh, body: { ...body, totp: code } });
    assert.equal(replay.status, 401);
    assert.match(replay.body.error.message, /already used/);
  });
  test('TOTP seed is encrypted at rest', async () => {
    const secret = newTotpSecret();
    const u = await addUser(api.db, { totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE) });
    const row = await api.db('users').where({ id: u.id }).first();
    assert.ok(!row.totp_secret_enc.includes(secret));
    assert.equal(api.ctx.secrets.open(row.totp_secret_enc, TOTP_PURPOSE), secret);
    assert.throws(() => api.ctx.secrets.open(row.totp_secret_enc, 'other purpose'));
  });
  test('public key: a registered key is accepted, another is not', async () => {
    const u = await addUser(api.db);
    const key = sshKeyLine();
    const { parseSshPublicKey } = await import('@jmp/contract/ssh-key');
    const parsed = parseSshPublicKey(key);
    assert.ok(typeof parsed !== 'string');
    await api.db('user_ssh_keys').insert({ user_id: u.id, public_key: parsed.line, fingerprint: parsed.fingerprint });
    const ok = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'publickey', username: u.username, publicKey: key.replace(' test@key', '') },
    });
    assert.equal(ok.status, 200);
    const bad = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'publickey', username: u.username, publicKey: sshKeyLine() },
    });
    assert.equal(bad.status, 401);
  });
  test('bad input is a 400 naming the field', async () => {
    const r = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: 'Alice', password: 'x' },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.username: /);
    const m = await api.call('POST', '/v1/auth/ssh', { auth: ssh, body: { method: 'magic', username: 'alice' } });
    assert.equal(m.status, 400);
    assert.match(m.body.error.message, /^body\.method/);
  });
  test('needs a service token of an allowed role', async () => {
    const body = { method: 'password', username: 'alice', password: 'x' };
    assert.equal((await api.call('POST', '/v1/auth/ssh', { body })).status, 401);
    assert.equal((await api.call('POST', '/v1/auth/ssh', { body, auth: 'Bearer not.a.token' })).status, 401);
    assert.equal(
      (await api.call('POST', '/v1/auth/ssh', { body, auth: `Bearer ${api.serviceToken('rdp')}` })).status,
      403,
    );
  });
});

describe('POST /v1/auth/web', () => {
  test('sets an HttpOnly SameSite=Strict cookie and returns a CSRF token', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery' });
    const r = await api.call('POST', '/v1/auth/web', {
      body: { username: u.username, password: 'correct horse battery' },
    });
    assert.equal(r.status, 200);
    const c = r.headers.get('set-cookie') ?? '';
    assert.match(c, /^jmp_session=/);
    assert.match(c, /HttpOnly/);
    assert.match(c, /SameSite=Strict/);
    assert.ok(r.body.csrfToken.length >= 32);
    const me = await api.call('GET', '/v1/me', { headers: { cookie: c.split(';')[0]! } });
    assert.equal(me.status, 200);
    assert.equal(me.body.user.username, u.username);
  });
  test('a session for a user disabled since is refused', async () => {
    const u = await addUser(api.db, { password: 'correct horse battery' });
    const r = await api.call('POST', '/v1/auth/web', {
      body: { username: u.username, password: 'correct horse battery' },
    });
    const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]!;
    await api.db('users').where({ id: u.id }).update({ status: 'disabled' });
    assert.equal((await api.call('GET', '/v1/me', { headers: { cookie } })).status, 401);
  });
  test('a forged cookie is refused', async () => {
    assert.equal(
      (await api.call('GET', '/v1/me', { headers: { cookie: 'jmp_session=eyJhbGciOiJIUzI1NiJ9.e30.xxx' } })).status,
      401,
    );
  });
});
