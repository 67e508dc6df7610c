// The admin REST API end to end: real Postgres and Redis via the harness.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticator } from 'otplib';
import { startApi, addUser, webLogin, type TestApi } from './harness.js';
import { mintSession } from '../src/http/auth.js';
import { verifyPassword } from '../src/crypto/passwords.js';

const PW = 'correct horse battery staple';
let api: TestApi;
let bearer: string;
let admin: { id: number; username: string; uid: number };
const sessions: Record<'admin' | 'plain' | 'auditor', Record<string, string>> = {} as never;

/** Cookie + CSRF headers for a person; mints the session directly if /v1/auth/web is not available. */
async function sessionFor(
  u: { id: number; username: string },
  flags: { isAdmin: boolean; isAuditor: boolean },
): Promise<Record<string, string>> {
  try {
    return (await webLogin(api, u.username, PW)).cookie;
  } catch {
    const s = mintSession(api.ctx, { id: u.id, username: u.username, ...flags });
    return { cookie: `jmp_session=${encodeURIComponent(s.token)}`, 'x-jmp-csrf': s.csrfToken };
  }
}

/** Calls as the admin service token. */
const A = (method: string, path: string, body?: unknown) => api.call(method, path, { body, auth: bearer });
/** Calls with a person's session cookie. */
const S = (who: keyof typeof sessions, method: string, path: string, body?: unknown) =>
  api.call(method, path, { body, headers: sessions[who] });

function expect400(r: { status: number; body: any }, field: string, re?: RegExp) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.code, 'bad_request');
  assert.ok(r.body.error.message.startsWith(`${field}:`), `message names ${field}: ${r.body.error.message}`);
  if (re) assert.match(r.body.error.message, re);
}
function expectStatus(r: { status: number; body: any }, status: number, re?: RegExp) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  if (re) assert.match(r.body.error.message, re);
}

/** A fresh ed25519 key as an OpenSSH line, and its fingerprint as ssh-keygen computes it. */
function sshKey(comment = 'me@laptop'): { line: string; fingerprint: string; blob: Buffer } {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
  const line = `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
  let fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
  try {
    const dir = mkdtempSync(join(tmpdir(), 'jmpkey-'));
    writeFileSync(join(dir, 'k.pub'), line + '\n');
    fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'k.pub')])
      .toString()
      .split(' ')[1]!;
    rmSync(dir, { recursive: true });
  } catch {
    /* no ssh-keygen: the computed value stands */
  }
  return { line, fingerprint, blob };
}

before(async () => {
  api = await startApi();
  bearer = `Bearer ${api.serviceToken('admin')}`;
  admin = await addUser(api.db, { password: PW, is_admin: true });
  const plain = await addUser(api.db, { password: PW });
  const auditor = await addUser(api.db, { password: PW, is_auditor: true });
  sessions.admin = await sessionFor(admin, { isAdmin: true, isAuditor: false });
  sessions.plain = await sessionFor(plain, { isAdmin: false, isAuditor: false });
  sessions.auditor = await sessionFor(auditor, { isAdmin: false, isAuditor: true });
});
after(async () => {
  await api.close();
});

describe('auth', () => {
  test('no credentials → 401 on reads and writes', async () => {
    for (const [m, p] of [
      ['GET', '/v1/users'],
      ['POST', '/v1/users'],
      ['GET', '/v1/hosts'],
      ['POST', '/v1/grants'],
      ['GET', '/v1/audit'],
      ['GET', '/v1/audit/verify'],
    ] as const) {
      const r = await api.call(m, p, { body: m === 'POST' ? {} : undefined });
      assert.equal(r.status, 401, `${m} ${p}`);
      assert.equal(r.body.error.code, 'unauthorized');
    }
  });

  test('a non-admin session → 403; an auditor may read but not write', async () => {
    expectStatus(await S('plain', 'GET', '/v1/users'), 403);
    expectStatus(await S('plain', 'POST', '/v1/users', { username: 'mallory' }), 403);
    expectStatus(await S('plain', 'GET', '/v1/audit'), 403);
    expectStatus(await S('auditor', 'GET', '/v1/users'), 200);
    expectStatus(await S('auditor', 'GET', '/v1/audit'), 200);
    expectStatus(await S('auditor', 'POST', '/v1/projects', { name: 'nope' }), 403);
    expectStatus(await S('auditor', 'DELETE', `/v1/users/${admin.id}`), 403);
  });

  test('an admin session works, and needs the CSRF header for writes', async () => {
    const r = await S('admin', 'POST', '/v1/projects', { name: 'via-session' });
    expectStatus(r, 201);
    const noCsrf = await api.call('POST', '/v1/projects', {
      body: { name: 'no-csrf' },
      headers: { cookie: sessions.admin.cookie! },
    });
    expectStatus(noCsrf, 403, /CSRF/);
    const audit = await A('GET', '/v1/audit?action=project.created');
    assert.ok(
      audit.body.items.some((e: any) => e.actor === `user:${admin.username}` && e.target === 'project:via-session'),
    );
  });

  test('the admin service token works; another service role does not', async () => {
    expectStatus(await A('GET', '/v1/users'), 200);
    const r = await api.call('GET', '/v1/users', { auth: `Bearer ${api.serviceToken('ssh')}` });
    assert.ok([401, 403].includes(r.status));
  });

  test('bad ids: 400 naming path.id; unknown ids: 404 with a sentence', async () => {
    expect400(await A('GET', '/v1/users/abc'), 'path.id');
    expect400(await A('GET', '/v1/hosts/99999999999'), 'path.id');
    for (const p of [
      'users',
      'departments',
      'projects',
      'services',
      'hosts',
      'roles',
      'grants',
      'rules',
      'enrolment-tokens',
    ]) {
      const r = await A('GET', `/v1/${p}/424242`);
      expectStatus(r, 404, /there is no .+ with id 424242/);
      expectStatus(await A('DELETE', `/v1/${p}/424242`), 404);
    }
    expectStatus(await A('PATCH', '/v1/hosts/424242', { state: 'offline' }), 404);
  });

  test('the endpoints are in the OpenAPI document', async () => {
    const r = await api.call('GET', '/v1/openapi.json');
    for (const p of [
      '/v1/users',
      '/v1/users/{id}',
      '/v1/users/{id}/password',
      '/v1/users/{id}/totp',
      '/v1/users/{id}/keys',
      '/v1/users/{id}/keys/{keyId}',
      '/v1/departments',
      '/v1/projects',
      '/v1/services',
      '/v1/hosts/{id}',
      '/v1/roles',
      '/v1/grants/{id}',
      '/v1/rules',
      '/v1/rules/test',
      '/v1/enrolment-tokens',
      '/v1/audit',
      '/v1/audit/verify',
    ]) {
      assert.ok(r.body.paths[p], `openapi lists ${p}`);
    }
    assert.ok(r.body.paths['/v1/users'].post.requestBody);
  });
});

describe('users', () => {
  test('create / list / get / update / soft delete / hard delete; uid from the sequence and stable', async () => {
    const c = await A('POST', '/v1/users', {
      username: 'alice',
      displayName: 'Alice A',
      email: 'alice@example.com',
      shell: '/bin/zsh',
    });
    expectStatus(c, 201);
    const alice = c.body;
    assert.ok(alice.uid >= 200000, `uid ${alice.uid}`);
    assert.equal(alice.status, 'active');
    assert.equal(alice.hasPassword, false);
    assert.equal(alice.hasTotp, false);
    assert.equal(alice.shell, '/bin/zsh');

    const bob = (await A('POST', '/v1/users', { username: 'bob', leaderId: alice.id })).body;
    assert.equal(bob.uid, alice.uid + 1);
    assert.equal(bob.leaderId, alice.id);

    const list = await A('GET', '/v1/users?q=ALIC');
    assert.deepEqual(
      list.body.items.map((u: any) => u.username),
      ['alice'],
    );
    assert.equal(list.body.total, 1);

    const upd = await A('PATCH', `/v1/users/${alice.id}`, { displayName: 'Alice Admin', isAuditor: true, email: null });
    expectStatus(upd, 200);
    assert.equal(upd.body.displayName, 'Alice Admin');
    assert.equal(upd.body.email, null);
    assert.equal(upd.body.uid, alice.uid);
    assert.equal(upd.body.username, 'alice');
    assert.ok(upd.body.updatedAt >= alice.updatedAt);

    expect400(await A('PATCH', `/v1/users/${alice.id}`, { username: 'alice2' }), 'body.username', /cannot be changed/);
    expect400(await A('PATCH', `/v1/users/${alice.id}`, { uid: 1 }), 'body.uid');
    expect400(await A('PATCH', `/v1/users/${alice.id}`, { leaderId: alice.id }), 'body.leaderId');
    assert.equal((await A('GET', `/v1/users/${alice.id}`)).body.uid, alice.uid);

    // soft delete keeps the row and the uid
    expectStatus(await A('DELETE', `/v1/users/${bob.id}`), 204);
    const gone = await A('GET', `/v1/users/${bob.id}`);
    assert.equal(gone.body.status, 'disabled');
    assert.equal(gone.body.uid, bob.uid);
    assert.deepEqual(
      (await A('GET', '/v1/users?status=disabled')).body.items.map((u: any) => u.username),
      ['bob'],
    );

    // hard delete removes it; the uid is not handed out again
    expectStatus(await A('DELETE', `/v1/users/${bob.id}?hard=1`), 204);
    expectStatus(await A('GET', `/v1/users/${bob.id}`), 404, /no user/);
    const carol = (await A('POST', '/v1/users', { username: 'carol' })).body;
    assert.ok(carol.uid > bob.uid);

    const actions = (await A('GET', '/v1/audit?action=user.*&limit=500')).body.items.map((e: any) => e.action);
    for (const a of ['user.created', 'user.updated', 'user.disabled', 'user.deleted'])
      assert.ok(actions.includes(a), a);
  });

  test('bad input → 400 naming the field; duplicates → 409', async () => {
    expect400(await A('POST', '/v1/users', { username: 'Alice' }), 'body.username');
    expect400(await A('POST', '/v1/users', { username: '1abc' }), 'body.username');
    expect400(await A('POST', '/v1/users', { username: 'x'.repeat(33) }), 'body.username');
    expect400(await A('POST', '/v1/users', {}), 'body.username');
    expect400(await A('POST', '/v1/users', { username: 'dave', email: 'not-an-email' }), 'body.email');
    expect400(await A('POST', '/v1/users', { username: 'dave', shell: 'bash' }), 'body.shell');
    expect400(await A('POST', '/v1/users', { username: 'dave', status: 'gone' }), 'body.status');
    expect400(await A('POST', '/v1/users', { username: 'dave', isAdmin: 'yes' }), 'body.isAdmin');
    expect400(await A('POST', '/v1/users', { username: 'dave', password: 'short' }), 'body.password');
    expectStatus(await A('POST', '/v1/users', { username: 'dave', leaderId: 999999 }), 404, /body\.leaderId/);
    expectStatus(await A('POST', '/v1/users', { username: 'dave', departmentId: 999999 }), 404, /body\.departmentId/);
    expectStatus(await A('POST', '/v1/users', { username: 'dave' }), 201);
    const dup = await A('POST', '/v1/users', { username: 'dave' });
    expectStatus(dup, 409, /^body\.username:/);
    assert.equal(dup.body.error.code, 'conflict');
  });

  test('pagination: limit/offset, limit capped at 500', async () => {
    for (let i = 0; i < 4; i++) expectStatus(await A('POST', '/v1/users', { username: `page${i}` }), 201);
    const p1 = await A('GET', '/v1/users?q=page&limit=2');
    const p2 = await A('GET', '/v1/users?q=page&limit=2&offset=2');
    assert.deepEqual(
      p1.body.items.map((u: any) => u.username),
      ['page0', 'page1'],
    );
    assert.deepEqual(
      p2.body.items.map((u: any) => u.username),
      ['page2', 'page3'],
    );
    assert.equal(p1.body.total, 4);
    assert.equal((await A('GET', '/v1/users?limit=100000')).body.limit, 500);
    expect400(await A('GET', '/v1/users?limit=0'), 'query.limit');
    expect400(await A('GET', '/v1/users?offset=-1'), 'query.offset');
  });

  test('password: min 12, scrypt-hashed, never returned', async () => {
    const u = (await A('POST', '/v1/users', { username: 'pwuser', password: 'initial password 1' })).body;
    assert.equal(u.hasPassword, true);
    expect400(await A('POST', `/v1/users/${u.id}/password`, { password: 'too short' }), 'body.password', /12/);
    expect400(await A('POST', `/v1/users/${u.id}/password`, {}), 'body.password');
    expectStatus(await A('POST', `/v1/users/${u.id}/password`, { password: 'a new long password' }), 204);
    expectStatus(await A('POST', '/v1/users/999999/password', { password: 'a new long password' }), 404);
    const row = await api.db('users').where({ id: u.id }).first();
    assert.match(row.password_hash, /^scrypt\$/);
    assert.ok(await verifyPassword('a new long password', row.password_hash));
    const all = JSON.stringify([
      (await A('GET', `/v1/users/${u.id}`)).body,
      (await A('GET', '/v1/users?limit=500')).body,
      (await A('GET', '/v1/audit?limit=500')).body,
    ]);
    assert.ok(!all.includes('password_hash') && !all.includes('passwordHash'));
    assert.ok(!all.includes(row.password_hash));
    assert.ok(!all.includes('a new long password') && !all.includes('initial password 1'));
  });

  test('TOTP: fresh seed returned once, sealed at rest with purpose totp, accepted by otplib; removal', async () => {
    const u = (await A('POST', '/v1/users', { username: 'totpuser' })).body;
    const r = await A('POST', `/v1/users/${u.id}/totp`);
    expectStatus(r, 201);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const { secret, uri } = r.body;
    assert.match(secret, /^[A-Z2-7]{16,}$/);
    assert.ok(uri.startsWith('otpauth://totp/') && uri.includes(`secret=${secret}`));
    assert.ok(authenticator.check(authenticator.generate(secret), secret));

    const row = await api.db('users').where({ id: u.id }).first();
    assert.ok(!row.totp_secret_enc.includes(secret));
    assert.equal(api.ctx.secrets.open(row.totp_secret_enc, 'totp'), secret);

    const got = await A('GET', `/v1/users/${u.id}`);
    assert.equal(got.body.hasTotp, true);
    const everything = JSON.stringify([
      got.body,
      (await A('GET', '/v1/users?limit=500')).body,
      (await A('GET', '/v1/audit?limit=500')).body,
    ]);
    assert.ok(!everything.includes(secret), 'the seed is not returned again');
    assert.ok(!everything.includes('totp_secret') && !everything.includes(row.totp_secret_enc));

    const again = (await A('POST', `/v1/users/${u.id}/totp`)).body.secret;
    assert.notEqual(again, secret);
    expectStatus(await A('DELETE', `/v1/users/${u.id}/totp`), 204);
    assert.equal((await A('GET', `/v1/users/${u.id}`)).body.hasTotp, false);
    assert.equal((await api.db('users').where({ id: u.id }).first()).totp_secret_enc, null);
    expectStatus(await A('POST', '/v1/users/999999/totp'), 404);
  });

  test('SSH keys: OpenSSH fingerprint, normalised line, duplicates 409, bad keys 400, delete', async () => {
    const u = (await A('POST', '/v1/users', { username: 'keyuser' })).body;
    const k = sshKey('alice@laptop');
    const r = await A('POST', `/v1/users/${u.id}/keys`, { publicKey: k.line });
    expectStatus(r, 201);
    assert.equal(r.body.fingerprint, k.fingerprint);
    assert.equal(r.body.publicKey, `ssh-ed25519 ${k.blob.toString('base64')}`);
    assert.equal(r.body.comment, 'alice@laptop');
    expectStatus(
      await A('POST', `/v1/users/${u.id}/keys`, { publicKey: k.line.replace('alice@laptop', 'other') }),
      409,
      /^body\.publicKey:/,
    );

    const k2 = sshKey();
    expectStatus(await A('POST', `/v1/users/${u.id}/keys`, { publicKey: k2.line, comment: 'ci' }), 201);
    const list = await A('GET', `/v1/users/${u.id}/keys`);
    assert.deepEqual(
      list.body.items.map((x: any) => x.comment),
      ['alice@laptop', 'ci'],
    );

    expect400(await A('POST', `/v1/users/${u.id}/keys`, { publicKey: 'not a key' }), 'body.publicKey');
    expect400(await A('POST', `/v1/users/${u.id}/keys`, { publicKey: 'ssh-ed25519 AAAA' }), 'body.publicKey');
    expect400(
      await A('POST', `/v1/users/${u.id}/keys`, { publicKey: `ssh-rsa ${k.blob.toString('base64')}` }),
      'body.publicKey',
      /not ssh-rsa/,
    );
    expect400(
      await A('POST', `/v1/users/${u.id}/keys`, {
        publicKey: `ssh-ed25519 ${k.blob.subarray(0, 30).toString('base64')}`,
      }),
      'body.publicKey',
    );

    expectStatus(await A('DELETE', `/v1/users/${u.id}/keys/${r.body.id}`), 204);
    expectStatus(await A('DELETE', `/v1/users/${u.id}/keys/${r.body.id}`), 404, /no SSH key/);
    assert.equal((await A('GET', `/v1/users/${u.id}/keys`)).body.items.length, 1);
    const actions = (await A('GET', '/v1/audit?action=user.*&limit=500')).body.items.map((e: any) => e.action);
    assert.ok(actions.includes('user.key_added') && actions.includes('user.key_removed'));
  });
});

describe('organisation', () => {
  test('departments: round trip, cycles refused, children block delete', async () => {
    const root = (await A('POST', '/v1/departments', { name: 'Engineering' })).body;
    const mid = (await A('POST', '/v1/departments', { name: 'Platform', parentId: root.id })).body;
    const leaf = (await A('POST', '/v1/departments', { name: 'SRE', parentId: mid.id, leaderId: admin.id })).body;
    assert.equal(leaf.parentId, mid.id);
    assert.equal(leaf.leaderId, admin.id);
    assert.deepEqual(
      (await A('GET', `/v1/departments?parentId=${root.id}`)).body.items.map((d: any) => d.name),
      ['Platform'],
    );
    assert.equal((await A('GET', `/v1/departments/${mid.id}`)).body.name, 'Platform');

    expect400(await A('PATCH', `/v1/departments/${root.id}`, { parentId: leaf.id }), 'body.parentId', /cycle/);
    expect400(await A('PATCH', `/v1/departments/${root.id}`, { parentId: root.id }), 'body.parentId');
    expectStatus(await A('PATCH', `/v1/departments/${root.id}`, { parentId: 999999 }), 404, /body\.parentId/);
    expectStatus(await A('POST', '/v1/departments', { name: 'Engineering' }), 409, /^body\.name:/);
    expect400(await A('POST', '/v1/departments', { name: '' }), 'body.name');

    const moved = await A('PATCH', `/v1/departments/${leaf.id}`, { parentId: root.id, name: 'Site Reliability' });
    expectStatus(moved, 200);
    assert.equal(moved.body.parentId, root.id);
    expectStatus(await A('DELETE', `/v1/departments/${root.id}`), 409, /sub-departments/);

    const u = (await A('POST', '/v1/users', { username: 'deptmember', departmentId: mid.id })).body;
    expectStatus(await A('DELETE', `/v1/departments/${mid.id}`), 204);
    expectStatus(await A('GET', `/v1/departments/${mid.id}`), 404);
    assert.equal((await A('GET', `/v1/users/${u.id}`)).body.departmentId, null);
  });

  test('projects and services: round trip, FK checks, non-empty parents refuse delete', async () => {
    const p = (await A('POST', '/v1/projects', { name: 'payments', description: 'money' })).body;
    expectStatus(await A('POST', '/v1/projects', { name: 'payments' }), 409, /^body\.name:/);
    const s = await A('POST', '/v1/services', { projectId: p.id, name: 'api' });
    expectStatus(s, 201);
    expectStatus(await A('POST', '/v1/services', { projectId: p.id, name: 'api' }), 409, /^body\.name:/);
    expectStatus(await A('POST', '/v1/services', { projectId: 999999, name: 'x' }), 404, /^body\.projectId:/);
    expect400(await A('POST', '/v1/services', { projectId: '1', name: 'x' }), 'body.projectId');
    assert.deepEqual(
      (await A('GET', `/v1/services?projectId=${p.id}`)).body.items.map((x: any) => x.name),
      ['api'],
    );
    assert.equal(
      (await A('PATCH', `/v1/projects/${p.id}`, { description: 'more money' })).body.description,
      'more money',
    );
    assert.equal((await A('PATCH', `/v1/services/${s.body.id}`, { name: 'gateway' })).body.name, 'gateway');
    assert.equal((await A('GET', '/v1/projects?q=PAY')).body.total, 1);

    expectStatus(await A('DELETE', `/v1/projects/${p.id}`), 409, /still has services/);
    await A('POST', '/v1/hosts', { hostname: 'pay-01', serviceId: s.body.id });
    expectStatus(await A('DELETE', `/v1/services/${s.body.id}`), 409, /still has hosts/);
    const h = (await A('GET', '/v1/hosts?q=pay-01')).body.items[0];
    expectStatus(await A('DELETE', `/v1/hosts/${h.id}`), 204);
    const rule = (await A('POST', '/v1/rules', { name: 'r', pattern: 'x', scopeType: 'service', scopeId: s.body.id }))
      .body;
    expectStatus(await A('DELETE', `/v1/services/${s.body.id}`), 409, /command rule/);
    await A('DELETE', `/v1/rules/${rule.id}`);
    expectStatus(await A('DELETE', `/v1/services/${s.body.id}`), 204);
    expectStatus(await A('DELETE', `/v1/projects/${p.id}`), 204);
    expectStatus(await A('GET', `/v1/projects/${p.id}`), 404);
  });

  test('hosts: round trip, filters, validation, agent fields read-only', async () => {
    const p = (await A('POST', '/v1/projects', { name: 'web' })).body;
    const s1 = (await A('POST', '/v1/services', { projectId: p.id, name: 'frontend' })).body;
    const p2 = (await A('POST', '/v1/projects', { name: 'data' })).body;
    const s2 = (await A('POST', '/v1/services', { projectId: p2.id, name: 'db' })).body;
    const hk = sshKey('root@web-01');
    const c = await A('POST', '/v1/hosts', {
      hostname: 'Web-01.example.com',
      addresses: ['10.1.0.1', '2001:db8::1', '10.1.0.1'],
      serviceId: s1.id,
      sshHostKeys: [hk.line],
    });
    expectStatus(c, 201);
    const web = c.body;
    assert.equal(web.hostname, 'web-01.example.com');
    assert.deepEqual(web.addresses, ['10.1.0.1', '2001:db8::1']);
    assert.deepEqual(web.sshHostKeys, [`ssh-ed25519 ${hk.blob.toString('base64')}`]);
    assert.equal(web.state, 'online');
    assert.equal(web.kind, 'linux');
    assert.equal(web.enrolled, false);
    assert.equal(web.enrolledAt, null);
    assert.deepEqual(web.agentStatus, {});
    await A('POST', '/v1/hosts', { hostname: 'web-02', addresses: ['10.1.0.2'], serviceId: s1.id, state: 'offline' });
    await A('POST', '/v1/hosts', { hostname: 'db-01', addresses: ['10.2.0.1'], serviceId: s2.id, kind: 'linux' });
    await A('POST', '/v1/hosts', { hostname: 'win-01', addresses: ['10.3.0.1'], kind: 'windows' });

    const names = async (qs: string) => (await A('GET', `/v1/hosts?${qs}`)).body.items.map((h: any) => h.hostname);
    assert.deepEqual(await names(`serviceId=${s1.id}`), ['web-01.example.com', 'web-02']);
    assert.deepEqual(await names(`projectId=${p2.id}`), ['db-01']);
    assert.deepEqual(await names(`projectId=${p.id}&state=offline`), ['web-02']);
    assert.deepEqual(await names('q=WEB'), ['web-01.example.com', 'web-02']);
    assert.deepEqual(await names('q=10.2.0'), ['db-01']);
    assert.deepEqual(await names('kind=windows'), ['win-01']);

    expect400(await A('POST', '/v1/hosts', { hostname: 'bad host' }), 'body.hostname');
    expect400(await A('POST', '/v1/hosts', { hostname: 'ok-01', addresses: ['10.0.0.300'] }), 'body.addresses.0');
    expect400(
      await A('POST', '/v1/hosts', { hostname: 'ok-01', addresses: ['10.0.0.1', 'example.com'] }),
      'body.addresses.1',
    );
    expect400(await A('POST', '/v1/hosts', { hostname: 'ok-01', state: 'maintenance' }), 'body.state');
    expect400(await A('POST', '/v1/hosts', { hostname: 'ok-01', kind: 'mac' }), 'body.kind');
    expect400(
      await A('POST', '/v1/hosts', { hostname: 'ok-01', sshHostKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5'] }),
      'body.sshHostKeys.0',
    );
    expectStatus(await A('POST', '/v1/hosts', { hostname: 'ok-01', serviceId: 999999 }), 404, /^body\.serviceId:/);
    expectStatus(await A('POST', '/v1/hosts', { hostname: 'WEB-02' }), 409, /^body\.hostname:/);
    expect400(await A('PATCH', `/v1/hosts/${web.id}`, { enrolledAt: new Date().toISOString() }), 'body.enrolledAt');
    expect400(await A('PATCH', `/v1/hosts/${web.id}`, { agentStatus: {} }), 'body.agentStatus');
    expect400(await A('GET', '/v1/hosts?state=up'), 'query.state');

    const u = await A('PATCH', `/v1/hosts/${web.id}`, { state: 'offline', serviceId: null, addresses: ['10.9.9.9'] });
    expectStatus(u, 200);
    assert.equal(u.body.state, 'offline');
    assert.equal(u.body.serviceId, null);
    assert.deepEqual(u.body.addresses, ['10.9.9.9']);
    assert.equal((await A('GET', `/v1/hosts/${web.id}`)).body.hostname, 'web-01.example.com');

    expectStatus(await A('DELETE', `/v1/hosts/${web.id}`), 204);
    expectStatus(await A('GET', `/v1/hosts/${web.id}`), 404, /no host/);
    const actions = (await A('GET', '/v1/audit?action=host.*&limit=500')).body.items.map((e: any) => e.action);
    for (const a of ['host.created', 'host.updated', 'host.deleted']) assert.ok(actions.includes(a), a);
  });
});

describe('access', () => {
  let user: any, proj: any, svc: any, host: any, dept: any;
  before(async () => {
    user = (await A('POST', '/v1/users', { username: 'grantee' })).body;
    proj = (await A('POST', '/v1/projects', { name: 'access-proj' })).body;
    svc = (await A('POST', '/v1/services', { projectId: proj.id, name: 'access-svc' })).body;
    host = (await A('POST', '/v1/hosts', { hostname: 'access-01', addresses: ['10.5.0.1'], serviceId: svc.id })).body;
    dept = (await A('POST', '/v1/departments', { name: 'Access Dept' })).body;
  });

  test('roles: round trip, ops_lead only with ops, FK checks, duplicates', async () => {
    const r = await A('POST', '/v1/roles', {
      userId: user.id,
      scopeType: 'service',
      scopeId: svc.id,
      role: 'ops',
      opsLead: true,
    });
    expectStatus(r, 201);
    assert.equal(r.body.opsLead, true);
    expect400(
      await A('POST', '/v1/roles', {
        userId: user.id,
        scopeType: 'project',
        scopeId: proj.id,
        role: 'owner',
        opsLead: true,
      }),
      'body.opsLead',
    );
    expect400(
      await A('POST', '/v1/roles', { userId: user.id, scopeType: 'host', scopeId: host.id, role: 'ops' }),
      'body.scopeType',
    );
    expect400(
      await A('POST', '/v1/roles', { userId: user.id, scopeType: 'project', scopeId: proj.id, role: 'admin' }),
      'body.role',
    );
    expectStatus(
      await A('POST', '/v1/roles', { userId: user.id, scopeType: 'project', scopeId: 999999, role: 'owner' }),
      404,
      /^body\.scopeId:/,
    );
    expectStatus(
      await A('POST', '/v1/roles', { userId: 999999, scopeType: 'project', scopeId: proj.id, role: 'owner' }),
      404,
      /^body\.userId:/,
    );
    expectStatus(
      await A('POST', '/v1/roles', { userId: user.id, scopeType: 'service', scopeId: svc.id, role: 'ops' }),
      409,
    );
    const owner = (
      await A('POST', '/v1/roles', { userId: user.id, scopeType: 'project', scopeId: proj.id, role: 'owner' })
    ).body;
    assert.deepEqual(
      (await A('GET', `/v1/roles?userId=${user.id}&scopeType=project`)).body.items.map((x: any) => x.id),
      [owner.id],
    );

    expect400(await A('PATCH', `/v1/roles/${owner.id}`, { opsLead: true }), 'body.opsLead');
    const demoted = await A('PATCH', `/v1/roles/${r.body.id}`, { role: 'owner' });
    expectStatus(demoted, 200);
    assert.deepEqual([demoted.body.role, demoted.body.opsLead], ['owner', false]);
    expectStatus(await A('DELETE', `/v1/roles/${owner.id}`), 204);
    expectStatus(await A('GET', `/v1/roles/${owner.id}`), 404);
  });

  test('grants: round trip, period checks, filters, revoke keeps the row', async () => {
    const g = await A('POST', '/v1/grants', {
      subjectType: 'user',
      subjectId: user.id,
      scopeType: 'host',
      scopeId: host.id,
      right: 'login',
    });
    expectStatus(g, 201);
    assert.equal(g.body.active, true);
    assert.equal(g.body.origin, 'admin');
    assert.equal(g.body.createdBy, null); // made with the service token
    const until = new Date(Date.now() + 3600_000).toISOString();
    const dg = await S('admin', 'POST', '/v1/grants', {
      subjectType: 'department',
      subjectId: dept.id,
      scopeType: 'service',
      scopeId: svc.id,
      right: 'root',
      validUntil: until,
    });
    expectStatus(dg, 201);
    assert.equal(dg.body.createdBy, admin.id);
    assert.equal(dg.body.validUntil, until);
    const future = (
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: user.id,
        scopeType: 'project',
        scopeId: proj.id,
        right: 'root',
        validFrom: new Date(Date.now() + 86400_000).toISOString(),
      })
    ).body;
    assert.equal(future.active, false);

    expect400(
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: user.id,
        scopeType: 'host',
        scopeId: host.id,
        right: 'login',
        validFrom: until,
        validUntil: new Date().toISOString(),
      }),
      'body.validUntil',
    );
    expect400(
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: user.id,
        scopeType: 'host',
        scopeId: host.id,
        right: 'admin',
      }),
      'body.right',
    );
    expect400(
      await A('POST', '/v1/grants', {
        subjectType: 'group',
        subjectId: user.id,
        scopeType: 'host',
        scopeId: host.id,
        right: 'login',
      }),
      'body.subjectType',
    );
    expect400(
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: user.id,
        scopeType: 'host',
        scopeId: host.id,
        right: 'login',
        validUntil: 'tomorrow',
      }),
      'body.validUntil',
    );
    expectStatus(
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: 999999,
        scopeType: 'host',
        scopeId: host.id,
        right: 'login',
      }),
      404,
      /^body\.subjectId:/,
    );
    expectStatus(
      await A('POST', '/v1/grants', {
        subjectType: 'department',
        subjectId: user.id + 1000,
        scopeType: 'host',
        scopeId: host.id,
        right: 'login',
      }),
      404,
      /^body\.subjectId:/,
    );
    expectStatus(
      await A('POST', '/v1/grants', {
        subjectType: 'user',
        subjectId: user.id,
        scopeType: 'service',
        scopeId: 999999,
        right: 'login',
      }),
      404,
      /^body\.scopeId:/,
    );

    const ids = async (qs: string) => (await A('GET', `/v1/grants?${qs}`)).body.items.map((x: any) => x.id);
    assert.deepEqual(await ids(`subjectType=user&subjectId=${user.id}`), [g.body.id, future.id]);
    assert.deepEqual(await ids(`scopeType=service&scopeId=${svc.id}`), [dg.body.id]);
    assert.deepEqual(await ids(`subjectId=${user.id}&active=1`), [g.body.id]);
    assert.deepEqual(await ids('right=root&active=true'), [dg.body.id]);

    const ext = await A('PATCH', `/v1/grants/${g.body.id}`, { validUntil: until });
    expectStatus(ext, 200);
    assert.equal(ext.body.validUntil, until);
    expect400(await A('PATCH', `/v1/grants/${g.body.id}`, { validUntil: '2000-01-01T00:00:00Z' }), 'body.validUntil');

    expectStatus(await A('DELETE', `/v1/grants/${g.body.id}`), 204);
    const after = await A('GET', `/v1/grants/${g.body.id}`);
    expectStatus(after, 200);
    assert.ok(after.body.revokedAt);
    assert.equal(after.body.active, false);
    assert.ok(await api.db('grants').where({ id: g.body.id }).whereNotNull('revoked_at').first());
    assert.deepEqual(await ids(`subjectId=${user.id}&active=1`), []);
    assert.ok((await ids(`subjectId=${user.id}&active=0`)).includes(g.body.id));
    expectStatus(await A('DELETE', `/v1/grants/${g.body.id}`), 204); // idempotent
    expectStatus(await A('PATCH', `/v1/grants/${g.body.id}`, { validUntil: null }), 409, /revoked/);
    const revoked = (await A('GET', '/v1/audit?action=grant.revoked')).body.items;
    assert.equal(revoked.filter((e: any) => e.target === `grant:${g.body.id}`).length, 1);
  });

  test('command rules: RE2 validation, scopes, test endpoint, round trip', async () => {
    const r = await A('POST', '/v1/rules', {
      name: 'no rm -rf /',
      pattern: '\\brm\\s+-[a-z]*r[a-z]*f[a-z]*\\s+/(\\s|$)',
      severity: 'critical',
    });
    expectStatus(r, 201);
    assert.deepEqual(
      [r.body.action, r.body.list, r.body.scopeType, r.body.scopeId, r.body.enabled],
      ['block', 'deny', 'global', null, true],
    );

    const bad = await A('POST', '/v1/rules', { name: 'lookahead', pattern: 'rm(?= -rf)' });
    expect400(bad, 'body.pattern', /invalid perl operator/);
    expect400(await A('POST', '/v1/rules', { name: 'paren', pattern: 'a(' }), 'body.pattern', /missing \)/);
    expect400(await A('POST', '/v1/rules', { name: 'x', pattern: 'x', severity: 'urgent' }), 'body.severity');
    expect400(await A('POST', '/v1/rules', { name: 'x', pattern: 'x', action: 'deny' }), 'body.action');
    expect400(await A('POST', '/v1/rules', { name: 'x', pattern: 'x', scopeType: 'service' }), 'body.scopeId');
    expect400(await A('POST', '/v1/rules', { name: 'x', pattern: 'x', scopeId: svc.id }), 'body.scopeId');
    expectStatus(
      await A('POST', '/v1/rules', { name: 'x', pattern: 'x', scopeType: 'project', scopeId: 999999 }),
      404,
      /^body\.scopeId:/,
    );
    const scoped = await A('POST', '/v1/rules', {
      name: 'shutdown',
      pattern: '^shutdown',
      action: 'alert',
      severity: 'medium',
      scopeType: 'service',
      scopeId: svc.id,
    });
    expectStatus(scoped, 201);

    assert.deepEqual(
      (await A('GET', `/v1/rules?scopeType=service&scopeId=${svc.id}`)).body.items.map((x: any) => x.id),
      [scoped.body.id],
    );
    assert.deepEqual(
      (await A('GET', '/v1/rules?action=alert')).body.items.map((x: any) => x.id),
      [scoped.body.id],
    );

    expect400(await A('PATCH', `/v1/rules/${r.body.id}`, { pattern: '(a)\\1' }), 'body.pattern');
    const u = await A('PATCH', `/v1/rules/${scoped.body.id}`, { scopeType: 'global', enabled: false });
    expectStatus(u, 200);
    assert.deepEqual([u.body.scopeType, u.body.scopeId, u.body.enabled], ['global', null, false]);
    assert.deepEqual(
      (await A('GET', '/v1/rules?enabled=0')).body.items.map((x: any) => x.id),
      [scoped.body.id],
    );

    const t = (pattern: string, line: string) => A('POST', '/v1/rules/test', { pattern, line });
    assert.deepEqual((await t(r.body.pattern, 'sudo rm -rf / ')).body, { match: true });
    assert.deepEqual((await t(r.body.pattern, 'rm -rf ./build')).body, { match: false });
    expect400(await t('(?<=x)y', 'xy'), 'body.pattern');
    expect400(await A('POST', '/v1/rules/test', { pattern: 'x' }), 'body.line');
    expectStatus(await S('plain', 'POST', '/v1/rules/test', { pattern: 'x', line: 'x' }), 403);

    expectStatus(await A('DELETE', `/v1/rules/${scoped.body.id}`), 204);
    expectStatus(await A('GET', `/v1/rules/${scoped.body.id}`), 404);
  });

  test('enrolment tokens: returned once, stored as sha256, list without token, revoke', async () => {
    const c = await A('POST', '/v1/enrolment-tokens', {
      description: 'rack 7',
      serviceId: svc.id,
      hostState: 'offline',
      maxUses: 20,
      ttlSeconds: 3600,
    });
    expectStatus(c, 201);
    const { token, id } = c.body;
    assert.match(token, /^jmpe_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      [c.body.maxUses, c.body.uses, c.body.hostState, c.body.serviceId, c.body.active],
      [20, 0, 'offline', svc.id, true],
    );
    assert.ok(Math.abs(new Date(c.body.expiresAt).getTime() - Date.now() - 3600_000) < 60_000);
    const row = await api.db('enrolment_tokens').where({ id }).first();
    assert.equal(row.token_hash, createHash('sha256').update(token).digest('hex'));
    assert.ok(!JSON.stringify(row).includes(token));

    const def = (await A('POST', '/v1/enrolment-tokens', {})).body;
    assert.deepEqual([def.maxUses, def.hostState, def.serviceId], [1, 'online', null]);
    assert.ok(Math.abs(new Date(def.expiresAt).getTime() - Date.now() - 86400_000) < 60_000);
    assert.notEqual(def.token, token);

    const listed = await A('GET', '/v1/enrolment-tokens');
    const shown = JSON.stringify([
      listed.body,
      (await A('GET', `/v1/enrolment-tokens/${id}`)).body,
      (await A('GET', '/v1/audit?limit=500')).body,
    ]);
    assert.ok(
      !shown.includes(token) &&
        !shown.includes(def.token) &&
        !shown.includes(row.token_hash) &&
        !shown.includes('"token"'),
    );
    assert.equal(listed.body.total, 2);

    expect400(await A('POST', '/v1/enrolment-tokens', { maxUses: 10001 }), 'body.maxUses');
    expect400(await A('POST', '/v1/enrolment-tokens', { maxUses: 0 }), 'body.maxUses');
    expect400(await A('POST', '/v1/enrolment-tokens', { ttlSeconds: 30 * 86400 + 1 }), 'body.ttlSeconds');
    expect400(await A('POST', '/v1/enrolment-tokens', { hostState: 'sleeping' }), 'body.hostState');
    expectStatus(await A('POST', '/v1/enrolment-tokens', { serviceId: 999999 }), 404, /^body\.serviceId:/);
    expectStatus(await S('plain', 'POST', '/v1/enrolment-tokens', {}), 403);

    expectStatus(await A('DELETE', `/v1/enrolment-tokens/${id}`), 204);
    const rev = (await A('GET', `/v1/enrolment-tokens/${id}`)).body;
    assert.ok(rev.revokedAt);
    assert.equal(rev.active, false);
    assert.deepEqual(
      (await A('GET', '/v1/enrolment-tokens?active=1')).body.items.map((x: any) => x.id),
      [def.id],
    );
  });
});

describe('safety', () => {
  test('the last active administrator cannot be demoted, disabled or deleted', async () => {
    await api.db('users').whereNot({ id: admin.id }).update({ is_admin: false });
    expectStatus(await A('PATCH', `/v1/users/${admin.id}`, { isAdmin: false }), 409, /no active administrator/);
    expectStatus(await A('PATCH', `/v1/users/${admin.id}`, { status: 'disabled' }), 409);
    expectStatus(await A('DELETE', `/v1/users/${admin.id}`), 409);
    const other = (await A('POST', '/v1/users', { username: 'admin2', isAdmin: true })).body;
    expectStatus(await A('PATCH', `/v1/users/${admin.id}`, { isAuditor: true }), 200);
    expectStatus(await A('PATCH', `/v1/users/${other.id}`, { isAdmin: false }), 200);
    expectStatus(await A('DELETE', `/v1/users/${admin.id}?hard=1`), 409);
  });
});

describe('audit', () => {
  test('search by action, actor, since; auditors allowed; no secrets in data', async () => {
    const since = new Date(Date.now() - 3600_000).toISOString();
    const r = await S(
      'auditor',
      'GET',
      `/v1/audit?action=user.created&actor=service:admin&since=${encodeURIComponent(since)}&limit=500`,
    );
    expectStatus(r, 200);
    assert.ok(r.body.items.length >= 5);
    assert.ok(r.body.items.every((e: any) => e.action === 'user.created' && e.actor === 'service:admin'));
    assert.ok(r.body.items[0].id > r.body.items[1].id, 'newest first');
    assert.ok(r.body.items.some((e: any) => e.target === 'user:alice' && e.data.uid >= 200000));
    assert.equal(
      (await A('GET', `/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body.items
        .length,
      0,
    );
    assert.equal((await A('GET', '/v1/audit?limit=3')).body.items.length, 3);
    expect400(await A('GET', '/v1/audit?since=yesterday'), 'query.since');
    expect400(await A('GET', '/v1/audit?action=DROP TABLE'), 'query.action');
    const all = JSON.stringify((await A('GET', '/v1/audit?limit=500')).body);
    assert.equal(/password_?hash|totp_?secret|token_?hash|"secret":|"token":|"password":/i.exec(all)?.[0], undefined);
  });

  test('the chain verifies after the writes and reports the first tampered row', async () => {
    const ok = await S('auditor', 'GET', '/v1/audit/verify');
    expectStatus(ok, 200);
    assert.equal(ok.body.ok, true);
    assert.equal(ok.body.brokenAt, null);
    const total = Number((await api.db('audit_events').count<{ n: string }[]>({ n: '*' }))[0]!.n);
    assert.equal(ok.body.checked, total);
    assert.ok(total > 30);

    const victim = (await api.db('audit_events').where({ action: 'grant.revoked' }).first()).id;
    await api.db.raw(`UPDATE audit_events SET data='{}' WHERE id=?`, [victim]);
    const bad = await A('GET', '/v1/audit/verify');
    assert.equal(bad.body.ok, false);
    assert.equal(bad.body.brokenAt, Number(victim));
    assert.equal(bad.body.checked, Number(victim) - 1);
    expectStatus(await S('plain', 'GET', '/v1/audit/verify'), 403);
  });
});
