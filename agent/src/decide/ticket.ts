// Offline check of a login ticket (ES256 JWT from jmp-api): the same rules
// jmp-api applies (services/api/src/tickets/tickets.ts) — known kid,
// signature, iss = jmp-api, aud = jmp-host:<this host>, sub = user, expiry,
// jti, lifetime ≤ 60 s, not issued in the future, not expiring beyond the
// longest lifetime. Single use is the caller's job (the spent set).
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { checkCompactTicket, decodeCompactTicket, isCompactTicket } from '@jmp/contract/compact-ticket';

export const TICKET_ISSUER = 'jmp-api';
export const CLOCK_TOLERANCE_S = 2;
export const MAX_TICKET_TTL_S = 60;
/** How far the clocks of jmp-api and this host may disagree (as jmp-api allows). */
export const TICKET_CLOCK_SKEW_S = 30;
const JTI_RE = /^[A-Za-z0-9._~-]{1,128}$/;

export type OfflineTicketCheck = { ok: true; jti: string; exp: number; iat: number } | { ok: false; reason: string };

export function ticketAudience(hostId: number): string {
  return `jmp-host:${hostId}`;
}

export function verifyTicketOffline(
  ticket: string,
  user: string,
  hostId: number,
  keyFor: (kid: string) => KeyObject | undefined,
  nowMs: number = Date.now(),
): OfflineTicketCheck {
  let decoded: jwt.Jwt | null;
  try {
    decoded = jwt.decode(ticket, { complete: true });
  } catch {
    return { ok: false, reason: 'ticket is malformed' };
  }
  const kid = decoded?.header.kid;
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null || typeof kid !== 'string' || !kid)
    return { ok: false, reason: 'ticket is malformed' };
  if (decoded.header.alg !== 'ES256') return { ok: false, reason: 'ticket is malformed' };
  const key = keyFor(kid);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  let p: jwt.JwtPayload;
  try {
    p = jwt.verify(ticket, key, {
      algorithms: ['ES256'],
      issuer: TICKET_ISSUER,
      clockTolerance: CLOCK_TOLERANCE_S,
      clockTimestamp: Math.floor(nowMs / 1000),
    }) as jwt.JwtPayload;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') return { ok: false, reason: 'ticket has expired' };
    if ((err as Error).message.startsWith('jwt issuer invalid'))
      return { ok: false, reason: 'ticket is not from jmp-api' };
    return { ok: false, reason: 'ticket signature is invalid' };
  }
  if (p.aud !== ticketAudience(hostId)) return { ok: false, reason: 'ticket is for another host' };
  if (p.sub !== user) return { ok: false, reason: 'ticket is for another user' };
  if (
    typeof p.jti !== 'string' ||
    !JTI_RE.test(p.jti) ||
    typeof p.exp !== 'number' ||
    typeof p.iat !== 'number' ||
    p.exp - p.iat > MAX_TICKET_TTL_S
  ) {
    return { ok: false, reason: 'ticket is malformed' };
  }
  const now = Math.floor(nowMs / 1000);
  if (p.iat > now + TICKET_CLOCK_SKEW_S) return { ok: false, reason: 'ticket was issued in the future' };
  if (p.exp > now + MAX_TICKET_TTL_S + TICKET_CLOCK_SKEW_S)
    return { ok: false, reason: 'ticket expires too far in the future' };
  return { ok: true, jti: p.jti, exp: p.exp, iat: p.iat };
}

/** The compact form (an RDP password): the same rules; `keyFor` maps its 4-byte key id (hex) to a key. */
export function verifyCompactTicketOffline(
  ticket: string,
  user: string,
  hostId: number,
  keyFor: (keyId: string) => KeyObject | undefined,
  nowMs: number = Date.now(),
): OfflineTicketCheck {
  const t = decodeCompactTicket(ticket);
  if (!t) return { ok: false, reason: 'ticket is malformed' };
  const key = keyFor(t.keyId);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  const c = checkCompactTicket(t, key, user, hostId, Math.floor(nowMs / 1000));
  return c.ok ? { ok: true, jti: c.jti, exp: c.exp, iat: c.iat } : c;
}

/** The jti and expiry of a ticket (JWT or compact) without checking it (to remember tickets jmp-api consumed online). */
export function peekTicketJti(ticket: string): { jti: string; exp: number } | null {
  if (isCompactTicket(ticket)) {
    const t = decodeCompactTicket(ticket);
    return t ? { jti: t.claims.jti, exp: t.claims.exp } : null;
  }
  let p: jwt.JwtPayload | null;
  try {
    p = jwt.decode(ticket, { json: true });
  } catch {
    return null;
  }
  if (!p || typeof p.jti !== 'string' || !JTI_RE.test(p.jti) || typeof p.exp !== 'number') return null;
  return { jti: p.jti, exp: p.exp };
}
