// Compact tickets at jmp-api: minted on request (format: 'compact', the RDP
// password for Linux desktops) and verified by POST /v1/pam/decide with the
// JWT ticket's rules, including the one spent set in Redis.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApiClient } from '@jmp/contract';
import {
  COMPACT_TICKET_MAX_LENGTH,
  COMPACT_TICKET_PREFIX,
  decodeCompactTicket,
  signCompactTicket,
} from '@jmp/contract/compact-ticket';
import { startApi, addUser, addProject, addService, addHost, addRole, type TestApi } from './harness.js';
import { hostIdentity, type HostIdentity } from './host-identity.js';
import { verifyTicket } from '../src/tickets/tickets.js';
import type { TicketKeys } from '../src/tickets/keys.js';

let api: TestApi;
let rdp: ApiClient;
let h1: { id: number; hostname: string }, h2: { id: number; hostname: string };
let id1: HostIdentity, id2: HostIdentity;
let alice: { id: number; username: string }, longest: { id: number; username: string };

before(async () => {
  api = await startApi();
  rdp = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('rdp')}` });
  const s = await addService(api.db, (await addProject(api.db)).id);
  id1 = hostIdentity();
  id2 = hostIdentity();
  h1 = await addHost(api.db, { service_id: s.id, state: 'online', agent_public_key: id1.publicKeyPem });
  h2 = await addHost(api.db, { service_id: s.id, state: 'online', agent_public_key: id2.publicKeyPem });
  alice = await addUser(api.db);
  // The longest username jmp allows: 32 characters.
  longest = await addUser(api.db, { username: `z${randomUUID().replace(/-/g, '').slice(0, 31)}` });
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
  await addRole(api.db, longest.id, 'service', s.id, 'ops');
});
after(async () => {
  await api.close();
});

const decide = (id: HostIdentity, hostId: number, user: string, ticket: string) =>
  api.call('POST', '/v1/pam/decide', {
    auth: id.token(hostId),
    body: { op: 'auth', user, ticket, service: 'xrdp-sesman' },
  });
const compact = (user = alice.username, host = h1.hostname, session?: string) =>
  rdp.ticket({ user, host, ...(session ? { session } : {}), format: 'compact' });

describe('POST /v1/tickets with format: compact', () => {
  test('the rdp service gets a compact ticket in `ticket`, with jti, expiresAt and the host as for a JWT', async () => {
    const r = await compact();
    assert.ok(r.ticket.startsWith(COMPACT_TICKET_PREFIX));
    const t = decodeCompactTicket(r.ticket)!;
    assert.equal(t.claims.username, alice.username);
    assert.equal(t.claims.hostId, h1.id);
    assert.equal(t.claims.jti, r.jti);
    assert.equal(t.claims.exp * 1000, Date.parse(r.expiresAt));
    assert.ok(t.claims.exp - t.claims.iat <= 60);
    assert.equal(r.host.id, h1.id);
    assert.equal(r.host.hostname, h1.hostname);
  });

  test('the longest ticket (32-character username and a session) is at most 200 characters', async () => {
    assert.equal(longest.username.length, 32);
    const r = await compact(longest.username, h1.hostname, randomUUID());
    assert.ok(r.ticket.length <= COMPACT_TICKET_MAX_LENGTH, `${r.ticket.length} characters`);
  });

  test('the default is still the JWT; an unknown format is a 400', async () => {
    assert.match((await rdp.ticket({ user: alice.username, host: h1.hostname })).ticket, /^eyJ/);
    const bad = await api.call('POST', '/v1/tickets', {
      auth: `Bearer ${api.serviceToken('rdp')}`,
      body: { user: alice.username, host: h1.hostname, format: 'saml' },
    });
    assert.equal(bad.status, 400);
  });

  test('the rdp role may ask for tickets but not check people’s SSH credentials', async () => {
    const r = await api.call('POST', '/v1/auth/ssh', {
      auth: `Bearer ${api.serviceToken('rdp')}`,
      body: { username: alice.username, method: 'password', password: 'x' },
    });
    assert.equal(r.status, 403);
  });
});

describe('POST /v1/pam/decide with a compact ticket', () => {
  test('allowed once; the replay is refused (the spent set in Redis)', async () => {
    const { ticket } = await compact();
    const first = await decide(id1, h1.id, alice.username, ticket);
    assert.equal(first.body.allow, true, first.body.reason);
    assert.deepEqual((await decide(id1, h1.id, alice.username, ticket)).body, {
      allow: false,
      reason: 'ticket has already been used',
    });
  });

  test('the session it names is recorded with the allow', async () => {
    const session = randomUUID();
    const { ticket } = await compact(alice.username, h1.hostname, session);
    assert.equal(decodeCompactTicket(ticket)!.claims.session, session);
    assert.equal((await decide(id1, h1.id, alice.username, ticket)).body.allow, true);
    const row = await api
      .db('audit_events')
      .where({ action: 'pam.auth.allow' })
      .whereRaw(`data->>'session' = ?`, [session])
      .first();
    assert.ok(row, 'audited with its session');
  });

  test('another host, another user, expired, tampered, foreign key: refused with the JWT reasons', async () => {
    const { ticket } = await compact();
    assert.deepEqual((await decide(id2, h2.id, alice.username, ticket)).body, {
      allow: false,
      reason: 'ticket is for another host',
    });
    assert.deepEqual((await decide(id1, h1.id, longest.username, ticket)).body, {
      allow: false,
      reason: 'ticket is for another user',
    });
    const { kid, privateKey } = api.ctx.ticketKeys.current();
    const now = Math.floor(Date.now() / 1000);
    const claims = { hostId: h1.id, username: alice.username, iat: now - 100, exp: now - 40, jti: randomUUID() };
    assert.deepEqual((await decide(id1, h1.id, alice.username, signCompactTicket(kid, privateKey, claims))).body, {
      allow: false,
      reason: 'ticket has expired',
    });
    const raw = Buffer.from(ticket.slice(COMPACT_TICKET_PREFIX.length), 'base64url');
    raw[20]! ^= 1;
    assert.deepEqual(
      (await decide(id1, h1.id, alice.username, COMPACT_TICKET_PREFIX + raw.toString('base64url'))).body,
      { allow: false, reason: 'ticket signature is invalid' },
    );
    const foreign = signCompactTicket(kid, hostIdentity().privateKey, { ...claims, iat: now, exp: now + 30 });
    assert.deepEqual((await decide(id1, h1.id, alice.username, foreign)).body, {
      allow: false,
      reason: 'ticket signature is invalid',
    });
    const unknownKey = signCompactTicket('k-nobody', privateKey, { ...claims, iat: now, exp: now + 30 });
    assert.deepEqual((await decide(id1, h1.id, alice.username, unknownKey)).body, {
      allow: false,
      reason: 'ticket is signed by an unknown key',
    });
    // The refusals spent nothing: the genuine ticket still works once.
    assert.equal((await decide(id1, h1.id, alice.username, ticket)).body.allow, true);
  });

  test('a compact ticket spent offline by an agent is refused online', async () => {
    const { ticket, jti } = await compact();
    const exp = decodeCompactTicket(ticket)!.claims.exp;
    const ev = {
      type: 'offline_decision',
      at: new Date().toISOString(),
      detail: { op: 'auth', user: alice.username, allow: true, mode: 'offline', jti, exp },
    };
    const sent = await api.call('POST', '/v1/agents/events', { auth: id1.token(h1.id), body: { events: [ev] } });
    assert.equal(sent.status, 204);
    assert.deepEqual((await decide(id1, h1.id, alice.username, ticket)).body, {
      allow: false,
      reason: 'ticket has already been used',
    });
  });
});

type Vector = { name: string; ticket: string; user: string; hostId: number; nowS: number; expect: object };
const golden = JSON.parse(
  readFileSync(new URL('../../../test/golden/compact-ticket-v1.json', import.meta.url), 'utf8'),
) as { key: { kid: string; publicKeyPem: string }; vectors: Vector[] };

describe("golden vectors through jmp-api's verifier (test/golden/compact-ticket-v1.json)", () => {
  const pub = createPublicKey(golden.key.publicKeyPem);
  const keys = {
    compactPublicKey: async (id: string) => (id === decodeCompactTicket(golden.vectors[0]!.ticket)!.keyId ? pub : null),
  } as unknown as TicketKeys;
  for (const v of golden.vectors) {
    test(v.name, async () => {
      const r = await verifyTicket(keys, v.ticket, v.user, v.hostId, v.nowS * 1000);
      // jmp-api's answer carries no iat; everything else is the golden verdict.
      const { iat: _iat, ...want } = v.expect as { iat?: number };
      assert.deepEqual(r, want);
    });
  }
});
