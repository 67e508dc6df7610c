// Flow 2 and 3 at the API: tickets, then PAM questions from the host's agent.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { createPublicKey, randomUUID } from 'node:crypto';
import { startApi, addUser, addProject, addService, addHost, addRole, addGrant, type TestApi } from './harness.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';

let api: TestApi;
let ssh: string;
let h1: { id: number; hostname: string }, h2: { id: number; hostname: string };
let id1: HostIdentity, id2: HostIdentity;
let alice: { id: number; username: string }, bob: { id: number; username: string };

before(async () => {
  api = await startApi();
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  const p = await addProject(api.db);
  const s = await addService(api.db, p.id);
  id1 = hostIdentity();
  id2 = hostIdentity();
  h1 = await addHost(api.db, {
    service_id: s.id,
    state: 'online',
    addresses: ['10.231.0.11'],
    ssh_host_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2v1'],
    agent_public_key: id1.publicKeyPem,
  });
  h2 = await addHost(api.db, { service_id: s.id, state: 'online', agent_public_key: id2.publicKeyPem });
  alice = await addUser(api.db);
  bob = await addUser(api.db);
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
});
after(async () => {
  await api.close();
});

const ticketFor = async (user: string, host: string) =>
  api.call('POST', '/v1/tickets', { auth: ssh, body: { user, host } });
const decide = (id: HostIdentity, hostId: number, body: Record<string, unknown>) =>
  api.call('POST', '/v1/pam/decide', { auth: id.token(hostId), body });

describe('POST /v1/tickets', () => {
  test('an ES256 ticket with kid, aud = host, jti, exp ≤ 60 s, plus address and host keys', async () => {
    const r = await ticketFor(alice.username, h1.hostname);
    assert.equal(r.status, 201);
    const t = jwt.decode(r.body.ticket, { complete: true })!;
    assert.equal(t.header.alg, 'ES256');
    assert.ok(t.header.kid);
    const p = t.payload as jwt.JwtPayload;
    assert.equal(p.sub, alice.username);
    assert.equal(p.aud, `jmp-host:${h1.id}`);
    assert.equal(p.jti, r.body.jti);
    assert.ok(p.exp! - p.iat! <= 60);
    assert.deepEqual(r.body.host.addresses, ['10.231.0.11']);
    assert.deepEqual(r.body.host.sshHostKeys, ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ2v1']);
    // verifiable with the published key
    const keys = await api.ctx.ticketKeys.published();
    const pub = keys.find((k) => k.kid === t.header.kid)!;
    assert.ok(jwt.verify(r.body.ticket, createPublicKey(pub.publicKeyPem), { algorithms: ['ES256'] }));
  });
  test('no login right: 403 with the reason', async () => {
    const r = await ticketFor(bob.username, h1.hostname);
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, new RegExp(`no login right for ${bob.username}`));
  });
  test('unknown host: 404', async () => {
    const r = await ticketFor(alice.username, 'no-such-host');
    assert.equal(r.status, 404);
  });
  test('needs a service token', async () => {
    assert.equal(
      (await api.call('POST', '/v1/tickets', { body: { user: alice.username, host: h1.hostname } })).status,
      401,
    );
  });
});

describe('POST /v1/agents/tickets (hop from a target)', () => {
  test('a user allowed on the calling host gets a ticket for another host they may use', async () => {
    // Only inside a live jmp session on the calling host (services/api/test/hop-tickets.test.ts).
    const live = await api.call('POST', '/v1/sessions', {
      auth: ssh,
      body: { id: randomUUID(), user: alice.username, host: h1.hostname },
    });
    assert.equal(live.status, 201);
    const r = await api.call('POST', '/v1/agents/tickets', {
      auth: id1.token(h1.id),
      body: { user: alice.username, host: h2.hostname },
    });
    assert.equal(r.status, 201);
    assert.equal((jwt.decode(r.body.ticket) as jwt.JwtPayload).aud, `jmp-host:${h2.id}`);
    const row = await api
      .db('audit_events')
      .where({ action: 'ticket.issued', target: `${alice.username}@${h2.hostname}` })
      .orderBy('id', 'desc')
      .first();
    assert.equal(row.data.via, `host:${h1.hostname}`);
  });
  test('a host cannot get tickets for someone who may not log in to it', async () => {
    const r = await api.call('POST', '/v1/agents/tickets', {
      auth: id1.token(h1.id),
      body: { user: bob.username, host: h2.hostname },
    });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /may not log in to/);
  });
  test('needs a host token', async () => {
    assert.equal(
      (await api.call('POST', '/v1/agents/tickets', { auth: ssh, body: { user: alice.username, host: h2.hostname } }))
        .status,
      401,
    );
  });
});

describe('POST /v1/pam/decide', () => {
  test('auth with a fresh ticket: allowed once, replay refused', async () => {
    const { body } = await ticketFor(alice.username, h1.hostname);
    const first = await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: body.ticket, service: 'sshd' });
    assert.equal(first.status, 200);
    assert.equal(first.body.allow, true);
    assert.match(first.body.reason, /is ops of service/);
    const again = await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: body.ticket, service: 'sshd' });
    assert.deepEqual(again.body, { allow: false, reason: 'ticket has already been used' });
  });
  test('a ticket for h1 used on h2 is refused', async () => {
    const { body } = await ticketFor(alice.username, h1.hostname);
    const r = await decide(id2, h2.id, { op: 'auth', user: alice.username, ticket: body.ticket });
    assert.deepEqual(r.body, { allow: false, reason: 'ticket is for another host' });
  });
  test('a ticket for another user is refused', async () => {
    const { body } = await ticketFor(alice.username, h1.hostname);
    const r = await decide(id1, h1.id, { op: 'auth', user: bob.username, ticket: body.ticket });
    assert.deepEqual(r.body, { allow: false, reason: 'ticket is for another user' });
  });
  test('an expired ticket is refused', async () => {
    const { kid, privateKey } = api.ctx.ticketKeys.current();
    const old = jwt.sign({}, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      subject: alice.username,
      audience: `jmp-host:${h1.id}`,
      jwtid: 'x1',
      issuer: 'jmp-api',
      expiresIn: 30,
    });
    const past = jwt.sign(
      { iat: Math.floor(Date.now() / 1000) - 100, exp: Math.floor(Date.now() / 1000) - 40 },
      privateKey,
      {
        algorithm: 'ES256',
        keyid: kid,
        subject: alice.username,
        audience: `jmp-host:${h1.id}`,
        jwtid: 'x2',
        issuer: 'jmp-api',
      },
    );
    assert.equal((await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: old })).body.allow, true);
    assert.deepEqual((await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: past })).body, {
      allow: false,
      reason: 'ticket has expired',
    });
  });
  test('a tampered or foreign-signed ticket is refused', async () => {
    const { body } = await ticketFor(alice.username, h1.hostname);
    const [h, p, s] = body.ticket.split('.');
    const tampered = `${h}.${p}.${s.slice(0, -4)}AAAA`;
    assert.equal((await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: tampered })).body.allow, false);
    const foreign = jwt.sign({}, hostIdentity().privateKey, {
      algorithm: 'ES256',
      keyid: api.ctx.ticketKeys.current().kid,
      subject: alice.username,
      audience: `jmp-host:${h1.id}`,
      jwtid: 'f1',
      issuer: 'jmp-api',
      expiresIn: 30,
    });
    assert.deepEqual((await decide(id1, h1.id, { op: 'auth', user: alice.username, ticket: foreign })).body, {
      allow: false,
      reason: 'ticket signature is invalid',
    });
  });
  test('auth without a ticket is refused', async () => {
    assert.equal((await decide(id1, h1.id, { op: 'auth', user: alice.username })).body.allow, false);
  });
  test('the login right is re-checked at use: a ticket for someone who lost it is refused', async () => {
    const carl = await addUser(api.db);
    const g = await addGrant(api.db, { subject_id: carl.id, scope_type: 'host', scope_id: h1.id, right: 'login' });
    const { body } = await ticketFor(carl.username, h1.hostname);
    await api.db('grants').where({ id: g.id }).update({ revoked_at: new Date() });
    const r = await decide(id1, h1.id, { op: 'auth', user: carl.username, ticket: body.ticket });
    assert.equal(r.body.allow, false);
    assert.match(r.body.reason, /no login right/);
  });
  test('account, sudo and su follow the rights; revocation is immediate', async () => {
    const dan = await addUser(api.db);
    assert.equal((await decide(id1, h1.id, { op: 'account', user: dan.username })).body.allow, false);
    const g = await addGrant(api.db, { subject_id: dan.id, scope_type: 'host', scope_id: h1.id, right: 'root' });
    assert.equal((await decide(id1, h1.id, { op: 'account', user: dan.username })).body.allow, true);
    assert.equal((await decide(id1, h1.id, { op: 'sudo', user: dan.username, runas: 'root' })).body.allow, true);
    assert.equal((await decide(id1, h1.id, { op: 'su', user: dan.username, runas: 'root' })).body.allow, true);
    assert.equal(
      (await decide(id2, h2.id, { op: 'sudo', user: dan.username, runas: 'root' })).body.allow,
      false,
      'grant is for h1 only',
    );
    await api.db('grants').where({ id: g.id }).update({ revoked_at: new Date() });
    const after = await decide(id1, h1.id, { op: 'sudo', user: dan.username, runas: 'root' });
    assert.equal(after.body.allow, false);
    assert.match(after.body.reason, /no root right/);
  });
  test('sudo needs the root right even when runas names the invoking user (sudo never reveals its target to PAM)', async () => {
    const eve = await addUser(api.db);
    await addGrant(api.db, { subject_id: eve.id, scope_type: 'host', scope_id: h1.id, right: 'login' });
    assert.equal((await decide(id1, h1.id, { op: 'account', user: eve.username })).body.allow, true);
    const r = await decide(id1, h1.id, { op: 'sudo', user: eve.username, runas: eve.username });
    assert.equal(r.body.allow, false);
    assert.match(r.body.reason, /no root right/);
    assert.equal(
      (await decide(id1, h1.id, { op: 'su', user: eve.username, runas: eve.username })).body.allow,
      true,
      'su to oneself is login',
    );
    assert.equal((await decide(id1, h1.id, { op: 'su', user: eve.username, runas: 'root' })).body.allow, false);
  });
  test('sudo without runas is a 400', async () => {
    const r = await decide(id1, h1.id, { op: 'sudo', user: alice.username });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /body\.runas/);
  });
  test('session_open and close are recorded and always allowed', async () => {
    assert.equal(
      (await decide(id1, h1.id, { op: 'session_open', user: alice.username, tty: 'pts/0' })).body.allow,
      true,
    );
    assert.equal((await decide(id1, h1.id, { op: 'session_close', user: alice.username })).body.allow, true);
    const rows = await api
      .db('audit_events')
      .where({ target: `${alice.username}@${h1.hostname}` })
      .whereIn('action', ['pam.session_open', 'pam.session_close']);
    assert.equal(rows.length, 2);
  });
  test('decisions are audited with their reason', async () => {
    const rows = await api.db('audit_events').where({ action: 'pam.auth.deny' });
    assert.ok(rows.some((r) => r.data.reason === 'ticket has already been used'));
  });
  test('host tokens: missing, expired, signed by another key, too long-lived', async () => {
    const body = { op: 'account', user: alice.username };
    assert.equal((await api.call('POST', '/v1/pam/decide', { body })).status, 401);
    assert.equal((await api.call('POST', '/v1/pam/decide', { body, auth: id2.token(h1.id) })).status, 401);
    assert.equal(
      (await api.call('POST', '/v1/pam/decide', { body, auth: id1.token(h1.id, { expiresIn: 3600 }) })).status,
      401,
    );
    const expired = `JMP-Host ${jwt.sign({ iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) - 60 }, id1.privateKey, { algorithm: 'ES256', subject: `host:${h1.id}`, audience: 'jmp-api' })}`;
    assert.equal((await api.call('POST', '/v1/pam/decide', { body, auth: expired })).status, 401);
    assert.equal(
      (await api.call('POST', '/v1/pam/decide', { body, auth: `Bearer ${api.serviceToken('ssh')}` })).status,
      401,
    );
  });
});
