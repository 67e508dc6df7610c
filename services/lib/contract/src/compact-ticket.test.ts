// The compact ticket's layout and rules: round trip, every byte signed, the
// 200-character bound, and the golden vectors jmp-api and the agent also read.
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  COMPACT_TICKET_MAX_LENGTH,
  COMPACT_TICKET_PREFIX,
  checkCompactTicket,
  compactKeyId,
  decodeCompactTicket,
  encodeCompactPayload,
  signCompactTicket,
  type CompactClaims,
} from './compact-ticket.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KID = 'k-2026-12-06-0badc0de';
const NOW = Math.floor(Date.now() / 1000);
const claims = (o: Partial<CompactClaims> = {}): CompactClaims => ({
  hostId: 7,
  username: 'alice',
  iat: NOW,
  exp: NOW + 60,
  jti: randomUUID(),
  ...o,
});
const check = (ticket: string, user = 'alice', hostId = 7, now = NOW) => {
  const t = decodeCompactTicket(ticket);
  return t
    ? checkCompactTicket(t, publicKey, user, hostId, now)
    : { ok: false as const, reason: 'ticket is malformed' };
};

describe('compact ticket', () => {
  test('round trip: the claims come back, with and without a session', () => {
    for (const session of [undefined, randomUUID()]) {
      const c = claims(session ? { session } : {});
      const ticket = signCompactTicket(KID, privateKey, c);
      assert.ok(ticket.startsWith(COMPACT_TICKET_PREFIX));
      const t = decodeCompactTicket(ticket)!;
      assert.equal(t.keyId, compactKeyId(KID));
      assert.deepEqual(t.claims, c);
      assert.deepEqual(check(ticket), {
        ok: true,
        jti: c.jti,
        iat: c.iat,
        exp: c.exp,
        ...(session ? { session } : {}),
      });
    }
  });

  test('the longest ticket (32-character username, session, largest host id) is at most 200 characters', () => {
    const ticket = signCompactTicket(
      KID,
      privateKey,
      claims({ username: 'a'.repeat(32), hostId: 0xffffffff, session: randomUUID() }),
    );
    assert.equal(ticket.length, 197);
    assert.ok(ticket.length <= COMPACT_TICKET_MAX_LENGTH);
    assert.ok(ticket.length < 256, 'xrdp refuses passwords of 256 characters or more');
  });

  test('every byte is covered: flipping any bit of any byte is refused', () => {
    const ticket = signCompactTicket(KID, privateKey, claims({ session: randomUUID() }));
    const raw = Buffer.from(ticket.slice(COMPACT_TICKET_PREFIX.length), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const b = Buffer.from(raw);
        b[i]! ^= bit;
        const r = check(COMPACT_TICKET_PREFIX + b.toString('base64url'));
        assert.equal(r.ok, false, `byte ${i} bit ${bit} was accepted`);
      }
    }
  });

  test('expired (after 2 s of tolerance), another host, another user, future, too long-lived', () => {
    const c = claims();
    const t = signCompactTicket(KID, privateKey, c);
    assert.equal(check(t, 'alice', 7, c.exp + 1).ok, true);
    assert.deepEqual(check(t, 'alice', 7, c.exp + 2), { ok: false, reason: 'ticket has expired' });
    assert.deepEqual(check(t, 'alice', 8), { ok: false, reason: 'ticket is for another host' });
    assert.deepEqual(check(t, 'bob'), { ok: false, reason: 'ticket is for another user' });
    assert.deepEqual(check(t, 'alice', 7, NOW - 31), { ok: false, reason: 'ticket was issued in the future' });
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ exp: NOW + 61 })), /lifetime/);
  });

  test('a key that is not the signer is refused', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = decodeCompactTicket(signCompactTicket(KID, other.privateKey, claims()))!;
    assert.deepEqual(checkCompactTicket(t, publicKey, 'alice', 7, NOW), {
      ok: false,
      reason: 'ticket signature is invalid',
    });
  });

  test('claims jmp-api must never sign are refused at minting', () => {
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ username: 'Alice' })), /username/);
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ username: 'a'.repeat(33) })), /username/);
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ hostId: 0 })), /host id/);
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ jti: 'j-1' })), /jti/);
    assert.throws(() => signCompactTicket(KID, privateKey, claims({ session: 'abc' })), /session/);
  });

  test('garbage is malformed, never an exception', () => {
    for (const s of [
      '',
      'jmpc.',
      'jmpc.A',
      'jmpc.AAAA',
      'jmpc.!!!!',
      'eyJhbGciOiJFUzI1NiJ9.e30.x',
      'jmpc.' + 'A'.repeat(300),
    ])
      assert.equal(decodeCompactTicket(s), null, s);
  });
});

type Vector = {
  name: string;
  ticket: string;
  user: string;
  hostId: number;
  nowS: number;
  payloadHex?: string;
  expect: { ok: boolean; reason?: string };
};
const golden = JSON.parse(
  readFileSync(new URL('../../../../test/golden/compact-ticket-v1.json', import.meta.url), 'utf8'),
) as { key: { kid: string; keyId: string; publicKeyPem: string }; vectors: Vector[] };

describe('golden vectors (test/golden/compact-ticket-v1.json)', () => {
  const key = createPublicKey(golden.key.publicKeyPem);
  test('the key id is SHA-256 of the kid', () => assert.equal(compactKeyId(golden.key.kid), golden.key.keyId));
  for (const v of golden.vectors) {
    test(v.name, () => {
      const t = decodeCompactTicket(v.ticket);
      const r = !t
        ? { ok: false, reason: 'ticket is malformed' }
        : t.keyId !== golden.key.keyId
          ? { ok: false, reason: 'ticket is signed by an unknown key' }
          : checkCompactTicket(t, key, v.user, v.hostId, v.nowS);
      if (v.expect.ok) {
        assert.deepEqual(r, v.expect);
        // The encoder writes exactly the golden payload for these claims.
        assert.equal(encodeCompactPayload(golden.key.kid, t!.claims).toString('hex'), v.payloadHex);
      } else assert.deepEqual(r, v.expect);
    });
  }
});
