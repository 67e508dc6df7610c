// Issue 11, points 7 and 8: hop tickets only inside a live jmp session (bound
// to it, switchable per service); service tokens do only their job (jmp-socket
// mints no tickets; a session's recording URI must be its own).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { startApi, addUser, addProject, addService, addHost, addRole, type TestApi } from './harness.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';

let api: TestApi;
let ssh: string, socket: string, admin: string;
let svc: { id: number }, closed: { id: number };
let h1: { id: number; hostname: string }, h2: { id: number; hostname: string }, h3: { id: number; hostname: string };
let id1: HostIdentity, id3: HostIdentity;
let alice: { id: number; username: string }, carol: { id: number; username: string };

before(async () => {
  api = await startApi();
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  socket = `Bearer ${api.serviceToken('socket')}`;
  admin = `Bearer ${api.serviceToken('admin')}`;
  const p = await addProject(api.db);
  svc = await addService(api.db, p.id);
  closed = await addService(api.db, p.id);
  id1 = hostIdentity();
  id3 = hostIdentity();
  h1 = await addHost(api.db, { service_id: svc.id, state: 'online', agent_public_key: id1.publicKeyPem });
  h2 = await addHost(api.db, { service_id: svc.id, state: 'online' });
  h3 = await addHost(api.db, { service_id: closed.id, state: 'online', agent_public_key: id3.publicKeyPem });
  alice = await addUser(api.db);
  carol = await addUser(api.db);
  for (const u of [alice, carol]) for (const s of [svc, closed]) await addRole(api.db, u.id, 'service', s.id, 'ops');
});
after(async () => {
  await api.close();
});

const startSession = async (user: string, host: string, extra: Record<string, unknown> = {}) => {
  const id = randomUUID();
  const r = await api.call('POST', '/v1/sessions', {
    auth: ssh,
    body: { id, user, host, instance: 'ssh-1', ...extra },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return id;
};
const endSession = (id: string, recordingUri?: string, auth = ssh) =>
  api.call('POST', `/v1/sessions/${id}/end`, {
    auth,
    body: { bytesIn: 1, bytesOut: 2, endReason: 'exit', ...(recordingUri ? { recordingUri } : {}) },
  });
const hop = (id: HostIdentity, from: { id: number }, body: Record<string, unknown>) =>
  api.call('POST', '/v1/agents/tickets', { auth: id.token(from.id), body });
const lastAudit = (action: string, target: string) =>
  api.db('audit_events').where({ action, target }).orderBy('id', 'desc').first();

describe('hop tickets (POST /v1/agents/tickets)', () => {
  test('refused without a live jmp session of that person on the calling host', async () => {
    const r = await hop(id1, h1, { user: alice.username, host: h2.hostname });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, new RegExp(`${alice.username} has no live jmp session on ${h1.hostname}`));
    assert.match(
      (await lastAudit('ticket.denied', `${alice.username}@${h2.hostname}`)).data.reason,
      /no live jmp session/,
    );
    // Sessions that do not count: someone else's on h1, hers on another host, an ended one, one whose heartbeat stopped.
    await startSession(carol.username, h1.hostname);
    await startSession(alice.username, h2.hostname);
    await endSession(await startSession(alice.username, h1.hostname));
    const stale = await startSession(alice.username, h1.hostname);
    await api.ctx.store.del(`session-live:${stale}`);
    assert.equal((await hop(id1, h1, { user: alice.username, host: h2.hostname })).status, 403);
    await endSession(stale);
  });

  test('allowed inside a live session, and bound to it: sid claim and audit name the parent', async () => {
    const parent = await startSession(alice.username, h1.hostname);
    const r = await hop(id1, h1, { user: alice.username, host: h2.hostname });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const claims = jwt.decode(r.body.ticket) as jwt.JwtPayload;
    assert.equal(claims.sid, parent);
    assert.equal(claims.aud, `jmp-host:${h2.id}`);
    const row = await lastAudit('ticket.issued', `${alice.username}@${h2.hostname}`);
    assert.equal(row.data.jti, r.body.jti);
    assert.equal(row.data.parentSession, parent);
    assert.equal(row.data.session, parent);
    assert.equal(row.data.via, `host:${h1.hostname}`);
    // The login on h2 with it is on record as part of the parent session.
    const id2 = hostIdentity();
    await api.db('hosts').where({ id: h2.id }).update({ agent_public_key: id2.publicKeyPem });
    const login = await api.call('POST', '/v1/pam/decide', {
      auth: id2.token(h2.id),
      body: { op: 'auth', user: alice.username, ticket: r.body.ticket },
    });
    assert.deepEqual([login.status, login.body.allow], [200, true], JSON.stringify(login.body));
    assert.equal((await lastAudit('pam.auth.allow', `${alice.username}@${h2.hostname}`)).data.session, parent);
    // The agent may name the session; it must be a live one of hers on this host.
    const carols = await startSession(carol.username, h1.hostname);
    const named = await hop(id1, h1, { user: alice.username, host: h2.hostname, session: carols });
    assert.equal(named.status, 403);
    assert.match(named.body.error.message, /is not a live jmp session of/);
    assert.equal((await hop(id1, h1, { user: alice.username, host: h2.hostname, session: parent })).status, 201);
    await endSession(parent);
    assert.equal(
      (await hop(id1, h1, { user: alice.username, host: h2.hostname })).status,
      403,
      'gone with the session',
    );
  });

  test('refused when a service has hop tickets off, from or to its hosts', async () => {
    const fromH1 = await startSession(alice.username, h1.hostname);
    const fromH3 = await startSession(alice.username, h3.hostname);
    assert.equal((await hop(id1, h1, { user: alice.username, host: h3.hostname })).status, 201);
    const off = await api.call('PATCH', `/v1/services/${closed.id}`, { auth: admin, body: { hopTickets: false } });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    assert.equal(off.body.hopTickets, false);
    const to = await hop(id1, h1, { user: alice.username, host: h3.hostname });
    assert.equal(to.status, 403);
    assert.match(to.body.error.message, new RegExp(`hop tickets are off for service .* so no hop to ${h3.hostname}`));
    const from = await hop(id3, h3, { user: alice.username, host: h2.hostname });
    assert.equal(from.status, 403);
    assert.match(from.body.error.message, new RegExp(`so no hop from ${h3.hostname}`));
    assert.equal(
      (await hop(id1, h1, { user: alice.username, host: h2.hostname })).status,
      201,
      'other services are unaffected',
    );
    assert.equal(
      (await api.call('PATCH', `/v1/services/${closed.id}`, { auth: admin, body: { hopTickets: true } })).body
        .hopTickets,
      true,
    );
    assert.equal((await hop(id3, h3, { user: alice.username, host: h2.hostname })).status, 201);
    await endSession(fromH1);
    await endSession(fromH3);
  });

  test("a hop's own session names its live parent; never someone else's", async () => {
    const parent = await startSession(alice.username, h1.hostname);
    const child = await startSession(alice.username, h2.hostname, { parentSession: parent });
    assert.equal((await api.db('sessions').where({ id: child }).first()).parent_session_id, parent);
    const r = await api.call('POST', '/v1/sessions', {
      auth: ssh,
      body: { id: randomUUID(), user: carol.username, host: h2.hostname, parentSession: parent },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /body\.parentSession: .* is not a live session of/);
  });
});

describe('service tokens do only their job', () => {
  test('jmp-socket cannot mint login tickets, nor act as jmp-ssh', async () => {
    const t = await api.call('POST', '/v1/tickets', {
      auth: socket,
      body: { user: alice.username, host: h1.hostname },
    });
    assert.equal(t.status, 403);
    assert.match(t.body.error.message, /service role socket may not call this endpoint/);
    const sid = randomUUID();
    assert.equal(
      (
        await api.call('POST', '/v1/sessions', {
          auth: socket,
          body: { id: sid, user: alice.username, host: h1.hostname },
        })
      ).status,
      403,
    );
    assert.equal((await api.call('GET', `/v1/access/hosts?user=${alice.username}`, { auth: socket })).status, 403);
    assert.equal(
      (
        await api.call('POST', '/v1/auth/ssh', {
          auth: socket,
          body: { method: 'password', username: alice.username, password: 'x' },
        })
      ).status,
      403,
    );
    assert.equal(
      (await api.call('GET', `/v1/guard/rules?host=${h1.hostname}`, { auth: `Bearer ${api.serviceToken('rdp')}` }))
        .status,
      403,
    );
    assert.equal(
      (await api.call('POST', '/v1/tickets', { auth: ssh, body: { user: alice.username, host: h1.hostname } })).status,
      201,
    );
  });

  test("a session's end cannot point at another session's recording", async () => {
    const day = new Date().toISOString().slice(0, 10);
    const mine = await startSession(alice.username, h1.hostname);
    const theirs = await startSession(carol.username, h1.hostname);
    const bad = [
      `file:///var/lib/jmp/recordings/${day}/${theirs}`,
      `s3://rec/recordings/${day}/${theirs}`,
      `file:///var/lib/jmp/recordings/${day}/${theirs}/../${mine}`,
      `file:///var/lib/jmp/recordings/${day}/%2e%2e/${mine}`,
      `http://evil.example/${day}/${mine}`,
      `file://otherhost/var/lib/jmp/recordings/${day}/${mine}`,
      `file:///var/lib/jmp/recordings/${day}/${mine}?x=1`,
      `file:///var/lib/jmp/recordings/1999-01-01/${mine}`,
      `file:///var/lib/jmp/recordings/${day}/${mine}x`,
    ];
    for (const uri of bad) {
      const r = await endSession(mine, uri);
      assert.equal(r.status, 400, uri);
      assert.match(r.body.error.message, /^body\.recordingUri: /, uri);
    }
    assert.equal(
      (await api.db('sessions').where({ id: mine }).first()).ended_at,
      null,
      'a refused end changes nothing',
    );
    assert.ok(await lastAudit('session.recording_refused', mine));
    assert.equal((await endSession(mine, `file:///var/lib/jmp/recordings/${day}/${mine}`)).status, 204);
    assert.equal((await endSession(theirs, `s3://rec/recordings/${day}/${theirs}`)).status, 204);
    assert.equal(
      (await api.db('sessions').where({ id: theirs }).first()).recording_uri,
      `s3://rec/recordings/${day}/${theirs}`,
    );
  });
});
