// Issue 11: no request can push an agent offline or make jmp-api answer 500.
// Strings Postgres cannot store are a 400 on every route; whatever a ticket
// holds, verifying it is a denial with a reason; jmp-api's own outages carry
// the JMP-Unavailable marker; tickets spent offline are spent online too; every
// PAM answer names the host's policy version.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { startApi, addUser, addProject, addService, addHost, addRole, addGrant, type TestApi } from './harness.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';

let api: TestApi;
let ssh: string;
let h1: { id: number; hostname: string };
let id1: HostIdentity;
let alice: { id: number; username: string };

before(async () => {
  api = await startApi();
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  const p = await addProject(api.db);
  const s = await addService(api.db, p.id);
  id1 = hostIdentity();
  h1 = await addHost(api.db, { service_id: s.id, state: 'online', agent_public_key: id1.publicKeyPem });
  alice = await addUser(api.db);
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
});
after(async () => {
  await api.close();
});

const decide = (body: Record<string, unknown>) => api.call('POST', '/v1/pam/decide', { auth: id1.token(h1.id), body });
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** A ticket with any header and payload, and a signature that is not one. */
const forged = (header: unknown, payload: unknown = { sub: 'x' }) =>
  `${b64(header)}.${b64(payload)}.${b64('not a signature')}`;
const sign = (payload: Record<string, unknown>, opts: jwt.SignOptions = {}) => {
  const { kid, privateKey } = api.ctx.ticketKeys.current();
  return jwt.sign(payload, privateKey, {
    algorithm: 'ES256',
    keyid: kid,
    subject: alice.username,
    audience: `jmp-host:${h1.id}`,
    issuer: 'jmp-api',
    jwtid: `t-${Math.random().toString(36).slice(2)}`,
    ...opts,
  });
};

describe('ticket verification: a denial with a reason, never a 500', () => {
  test('a NUL byte (or worse) in the header kid, odd algorithms, broken headers and payloads', async () => {
    const cases: Array<[string, string]> = [
      ['NUL in kid', forged({ alg: 'ES256', typ: 'JWT', kid: 'k\u0000x' })],
      ['lone surrogate in kid', forged({ alg: 'ES256', typ: 'JWT', kid: 'k\ud800' })],
      ['huge kid', forged({ alg: 'ES256', typ: 'JWT', kid: 'k'.repeat(3000) })],
      ['kid a number', forged({ alg: 'ES256', kid: 42 })],
      ['kid an object', forged({ alg: 'ES256', kid: { $ne: null } })],
      ['unknown kid', forged({ alg: 'ES256', kid: 'k-1999-01-01-deadbeef' })],
      ['alg none', forged({ alg: 'none', kid: api.ctx.ticketKeys.current().kid })],
      ['alg HS256 with the public key id', forged({ alg: 'HS256', kid: api.ctx.ticketKeys.current().kid })],
      ['header not JSON', `${b64('{{{')}.${b64({ sub: 'x' })}.${b64('sig')}`],
      ['payload a string', forged({ alg: 'ES256', kid: api.ctx.ticketKeys.current().kid }, '"just a string"')],
      ['two parts', `${b64({ alg: 'ES256', kid: 'k' })}.${b64({})}`],
    ];
    for (const [name, ticket] of cases) {
      const r = await decide({ op: 'auth', user: alice.username, ticket });
      assert.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.allow, false, name);
      assert.match(r.body.reason, /^ticket /, name);
    }
  });

  test('a ticket issued in the future (beyond 30 s) or expiring beyond 60 s + skew is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    const future = await decide({ op: 'auth', user: alice.username, ticket: sign({ iat: now + 120, exp: now + 180 }) });
    assert.deepEqual([future.body.allow, future.body.reason], [false, 'ticket was issued in the future']);
    const later = await decide({
      op: 'auth',
      user: alice.username,
      ticket: sign({ iat: now + 3540, exp: now + 3600 }),
    });
    assert.equal(later.body.allow, false);
    assert.match(later.body.reason, /in the future/);
    const skewed = await decide({ op: 'auth', user: alice.username, ticket: sign({ iat: now + 10, exp: now + 60 }) });
    assert.equal(skewed.body.allow, true, `within the skew: ${skewed.body.reason}`);
  });
});

describe('strings Postgres cannot store: 400 on every route of the OpenAPI document', () => {
  test('a NUL in a path parameter, a query parameter or a body field is a 400, never a 500', async () => {
    const doc = (await api.call('GET', '/v1/openapi.json')).body as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: { 'application/json': { schema: { properties?: Record<string, unknown> } } } } }
        >
      >;
    };
    let routes = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        routes++;
        const props = Object.keys(op.requestBody?.content['application/json'].schema.properties ?? {});
        const hasParams = /\{\w+\}/.test(path);
        const variants: Array<{ where: string; url: string; body?: unknown }> = [];
        const plain = path.replace(/\{\w+\}/g, '1');
        if (hasParams) variants.push({ where: 'path', url: path.replace(/\{\w+\}/g, 'a%00b') });
        variants.push({ where: 'query', url: `${plain}?q=x%00y` });
        if (method !== 'get' && method !== 'delete') {
          const body: Record<string, unknown> = { nested: [{ deep: 'x\u0000' }] };
          for (const p of props) body[p] = 'x\u0000y';
          variants.push({ where: 'body', url: plain, body });
          variants.push({ where: 'body key', url: plain, body: { ['k\u0000']: 1 } });
        }
        for (const v of variants) {
          for (const auth of [undefined, ssh]) {
            const r = await api.call(method.toUpperCase(), v.url, {
              ...(v.body !== undefined ? { body: v.body } : {}),
              ...(auth ? { auth } : {}),
            });
            assert.equal(r.status, 400, `${method} ${path} (${v.where}): ${r.status} ${JSON.stringify(r.body)}`);
            assert.equal(r.body.error.code, 'bad_request');
            assert.match(r.body.error.message, /NUL/);
          }
        }
      }
    }
    assert.ok(routes > 40, `the document lists every route (${routes})`);
  });

  test('a deeply nested body is walked without overflowing the stack', async () => {
    for (const depth of [5000, 100_000]) {
      const body = `{"op":"account","user":"${alice.username}","x":${'['.repeat(depth)}"\u0000"${']'.repeat(depth)}}`;
      const r = await api.call('POST', '/v1/pam/decide', { auth: id1.token(h1.id), body });
      assert.equal(r.status, 400, `${depth}: ${JSON.stringify(r.body)}`);
    }
  });

  test('an unpaired UTF-16 surrogate in a JSON body is a 400', async () => {
    const r = await api.call('POST', '/v1/pam/decide', {
      auth: id1.token(h1.id),
      body: `{"op":"account","user":"${alice.username}","tty":"pts\\ud800"}`,
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.tty: .*surrogate/);
    const low = await api.call('POST', '/v1/tickets', {
      auth: ssh,
      body: `{"user":"${alice.username}","host":"${h1.hostname}","x":"\\udc00a"}`,
    });
    assert.equal(low.status, 400);
    const pair = await api.call('POST', '/v1/pam/decide', {
      auth: id1.token(h1.id),
      body: `{"op":"account","user":"${alice.username}","tty":"\\ud83d\\ude00"}`,
    });
    assert.equal(pair.status, 200, 'a proper pair is fine');
  });
});

describe('outages carry the JMP-Unavailable marker; other failures do not', () => {
  test('a store outage while spending a ticket: 503 with the marker', async () => {
    const t = await api.call('POST', '/v1/tickets', { auth: ssh, body: { user: alice.username, host: h1.hostname } });
    const store = api.ctx.store;
    const orig = store.setIfAbsent.bind(store);
    store.setIfAbsent = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    try {
      const r = await decide({ op: 'auth', user: alice.username, ticket: t.body.ticket });
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, 'unavailable');
      assert.equal(r.headers.get('jmp-unavailable'), '1');
    } finally {
      store.setIfAbsent = orig;
    }
    const bad = await decide({ op: 'sudo', user: alice.username });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('jmp-unavailable'), null);
  });
});

describe('tickets spent offline are spent online', () => {
  test('an offline_decision event naming a ticket marks it spent: online it is refused', async () => {
    const t = await api.call('POST', '/v1/tickets', { auth: ssh, body: { user: alice.username, host: h1.hostname } });
    const exp = (jwt.decode(t.body.ticket) as jwt.JwtPayload).exp!;
    const ev = {
      type: 'offline_decision',
      at: new Date().toISOString(),
      detail: { op: 'auth', user: alice.username, allow: true, mode: 'offline', jti: t.body.jti, exp },
    };
    const sent = await api.call('POST', '/v1/agents/events', { auth: id1.token(h1.id), body: { events: [ev] } });
    assert.equal(sent.status, 204);
    const r = await decide({ op: 'auth', user: alice.username, ticket: t.body.ticket });
    assert.deepEqual([r.status, r.body.allow, r.body.reason], [200, false, 'ticket has already been used']);
  });
});

describe('every PAM answer names the policy version', () => {
  test('JMP-Policy-Version is the version the snapshot was built at, and grows with any access write', async () => {
    const policy = await api.call('GET', '/v1/agents/policy', { auth: id1.token(h1.id) });
    const built = policy.headers.get('jmp-policy-version');
    assert.match(built ?? '', /^\d+$/);
    const r = await decide({ op: 'account', user: alice.username });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('jmp-policy-version'), built);
    const carl = await addUser(api.db);
    await addGrant(api.db, { subject_id: carl.id, scope_type: 'host', scope_id: h1.id, right: 'login' });
    const after = await decide({ op: 'account', user: alice.username });
    assert.ok(
      BigInt(after.headers.get('jmp-policy-version')!) > BigInt(built!),
      'the next answer names a newer version at once',
    );
    const pulled = await api.call('GET', '/v1/agents/policy', {
      auth: id1.token(h1.id),
      headers: { 'if-none-match': policy.headers.get('etag')! },
    });
    assert.equal(pulled.status, 200, 'the snapshot changed');
    assert.equal(pulled.headers.get('jmp-policy-version'), after.headers.get('jmp-policy-version'));
    const unchanged = await api.call('GET', '/v1/agents/policy', {
      auth: id1.token(h1.id),
      headers: { 'if-none-match': pulled.headers.get('etag')! },
    });
    assert.equal(unchanged.status, 304);
    assert.equal(
      unchanged.headers.get('jmp-policy-version'),
      after.headers.get('jmp-policy-version'),
      'a 304 names the version too',
    );
  });
});
