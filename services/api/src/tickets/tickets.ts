// One-time login tickets (DESIGN flow 2): ES256 JWT, kid, sub = username,
// aud = host id, jti, exp ≤ 60 s. Verified by jmp-api, or offline by the agent
// with the published public keys. The compact form (@jmp/contract/compact-ticket,
// an RDP password) carries the same claims under the same keys and rules.
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import {
  checkCompactTicket,
  decodeCompactTicket,
  isCompactTicket,
  signCompactTicket,
} from '@jmp/contract/compact-ticket';
import type { TicketFormat } from '@jmp/contract/schemas/tickets';
import type { TicketKeys } from './keys.js';
import { isDbUnavailable } from '../http/db-health.js';

export const ticketAudience = (hostId: number) => `jmp-host:${hostId}`;

export const MAX_TICKET_TTL_S = 60;
/** How far the clocks of jmp-api instances and hosts may disagree. */
export const TICKET_CLOCK_SKEW_S = 30;
/** A kid jmp-api makes (k-YYYY-MM-DD-hex); anything else never reaches the database. */
export const KID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const JTI_RE = /^[A-Za-z0-9._~-]{1,128}$/;

export function mintTicket(
  keys: TicketKeys,
  username: string,
  hostId: number,
  ttlSeconds: number,
  session?: string,
  format: TicketFormat = 'jwt',
): { ticket: string; jti: string; expiresAt: Date } {
  const { kid, privateKey } = keys.current();
  const jti = randomUUID();
  const ttl = Math.min(MAX_TICKET_TTL_S, Math.max(1, ttlSeconds));
  if (format === 'compact') {
    const iat = Math.floor(Date.now() / 1000);
    const ticket = signCompactTicket(kid, privateKey, {
      hostId,
      username,
      iat,
      exp: iat + ttl,
      jti,
      ...(session ? { session } : {}),
    });
    return { ticket, jti, expiresAt: new Date((iat + ttl) * 1000) };
  }
  const ticket = jwt.sign(session ? { sid: session } : {}, privateKey, {
    algorithm: 'ES256',
    keyid: kid,
    subject: username,
    audience: ticketAudience(hostId),
    jwtid: jti,
    expiresIn: ttl,
    issuer: 'jmp-api',
  });
  return { ticket, jti, expiresAt: new Date(Date.now() + ttl * 1000) };
}

/** `session`: the jmp session the login belongs to (a hop's parent session), when the ticket names one. */
export type TicketCheck = { ok: true; jti: string; exp: number; session?: string } | { ok: false; reason: string };

/**
 * Signature, audience, subject, lifetime and clock checks. Single use is the
 * caller's job (it needs the store). Whatever the ticket holds, the answer is
 * a denial with a reason, never an exception: only an outage of the database
 * (which the agent must see as 503) is thrown.
 */
export async function verifyTicket(
  keys: TicketKeys,
  ticket: string,
  username: string,
  hostId: number,
  nowMs = Date.now(),
): Promise<TicketCheck> {
  try {
    const now = Math.floor(nowMs / 1000);
    return await (isCompactTicket(ticket) ? checkCompact : check)(keys, ticket, { username, hostId, now });
  } catch (err) {
    if (isDbUnavailable(err)) throw err;
    return { ok: false, reason: 'ticket cannot be verified' };
  }
}

/** What a ticket must be for: this user on this host, at `now` (seconds). */
interface TicketWant {
  username: string;
  hostId: number;
  now: number;
}

/** One ticket format's check (the JWT and the compact form answer alike). */
type TicketChecker = (keys: TicketKeys, ticket: string, want: TicketWant) => Promise<TicketCheck>;

const check: TicketChecker = async (keys, ticket, { username, hostId, now }) => {
  const decoded = jwt.decode(ticket, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null)
    return { ok: false, reason: 'ticket is malformed' };
  const { kid, alg } = decoded.header;
  if (alg !== 'ES256') return { ok: false, reason: 'ticket is malformed: it must be signed with ES256' };
  if (typeof kid !== 'string' || !KID_RE.test(kid)) return { ok: false, reason: 'ticket is malformed: bad key id' };
  const key = await keys.publicKey(kid);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  let p: jwt.JwtPayload;
  try {
    p = jwt.verify(ticket, key, {
      algorithms: ['ES256'],
      issuer: 'jmp-api',
      clockTolerance: 2,
      clockTimestamp: now,
    }) as jwt.JwtPayload;
  } catch (err) {
    return {
      ok: false,
      reason: (err as Error).name === 'TokenExpiredError' ? 'ticket has expired' : 'ticket signature is invalid',
    };
  }
  if (p.aud !== ticketAudience(hostId)) return { ok: false, reason: 'ticket is for another host' };
  if (p.sub !== username) return { ok: false, reason: 'ticket is for another user' };
  if (
    typeof p.jti !== 'string' ||
    !JTI_RE.test(p.jti) ||
    typeof p.exp !== 'number' ||
    typeof p.iat !== 'number' ||
    p.exp - p.iat > MAX_TICKET_TTL_S
  ) {
    return { ok: false, reason: 'ticket is malformed' };
  }
  const session = typeof p.sid === 'string' && JTI_RE.test(p.sid) ? { session: p.sid } : {};
  return clockCheck(p.iat, p.exp, now) ?? { ok: true, jti: p.jti, exp: p.exp, ...session };
};

const checkCompact: TicketChecker = async (keys, ticket, { username, hostId, now }) => {
  const t = decodeCompactTicket(ticket);
  if (!t) return { ok: false, reason: 'ticket is malformed' };
  const key = await keys.compactPublicKey(t.keyId);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  const c = checkCompactTicket(t, key, username, hostId, now);
  return c.ok ? { ok: true, jti: c.jti, exp: c.exp, ...(c.session ? { session: c.session } : {}) } : c;
};

/** A ticket from the future, or one that lives longer than jmp-api ever issues, was not minted by a sane jmp-api. */
export function clockCheck(iat: number, exp: number, now: number): { ok: false; reason: string } | null {
  if (iat > now + TICKET_CLOCK_SKEW_S) return { ok: false, reason: 'ticket was issued in the future' };
  if (exp > now + MAX_TICKET_TTL_S + TICKET_CLOCK_SKEW_S)
    return { ok: false, reason: 'ticket expires too far in the future' };
  return null;
}
