// Offline check of a login ticket (ES256 JWT from jmp-api): the same rules
// jmp-api applies (services/api/src/tickets/tickets.ts) — known kid,
// signature, iss = jmp-api, aud = jmp-host:<this host>, sub = user, expiry,
// jti, lifetime ≤ 60 s. Single use is the caller's job (the spent set).
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const TICKET_ISSUER = 'jmp-api';
export const CLOCK_TOLERANCE_S = 2;
const JTI_RE = /^[A-Za-z0-9._~-]{1,128}$/;

export type OfflineTicketCheck = { ok: true; jti: string; exp: number; iat: number } | { ok: false; reason: string };

export function ticketAudience(hostId: number): string {
  return `jmp-host:${hostId}`;
}

export function verifyTicketOffline(ticket: string, user: string, hostId: number, keyFor: (kid: string) => KeyObject | undefined, nowMs: number = Date.now()): OfflineTicketCheck {
  const decoded = jwt.decode(ticket, { complete: true });
  const kid = decoded?.header.kid;
  if (!decoded || typeof decoded.payload !== 'object' || !kid) return { ok: false, reason: 'ticket is malformed' };
  if (decoded.header.alg !== 'ES256') return { ok: false, reason: 'ticket is malformed' };
  const key = keyFor(kid);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  let p: jwt.JwtPayload;
  try {
    p = jwt.verify(ticket, key, { algorithms: ['ES256'], issuer: TICKET_ISSUER, clockTolerance: CLOCK_TOLERANCE_S, clockTimestamp: Math.floor(nowMs / 1000) }) as jwt.JwtPayload;
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TokenExpiredError') return { ok: false, reason: 'ticket has expired' };
    if ((err as Error).message.startsWith('jwt issuer invalid')) return { ok: false, reason: 'ticket is not from jmp-api' };
    return { ok: false, reason: 'ticket signature is invalid' };
  }
  if (p.aud !== ticketAudience(hostId)) return { ok: false, reason: 'ticket is for another host' };
  if (p.sub !== user) return { ok: false, reason: 'ticket is for another user' };
  if (typeof p.jti !== 'string' || !JTI_RE.test(p.jti) || !p.exp || !p.iat || p.exp - p.iat > 60) return { ok: false, reason: 'ticket is malformed' };
  return { ok: true, jti: p.jti, exp: p.exp, iat: p.iat };
}

/** The jti and expiry of a ticket without checking it (to remember tickets jmp-api consumed online). */
export function peekTicketJti(ticket: string): { jti: string; exp: number } | null {
  const p = jwt.decode(ticket, { json: true });
  if (!p || typeof p.jti !== 'string' || !JTI_RE.test(p.jti) || typeof p.exp !== 'number') return null;
  return { jti: p.jti, exp: p.exp };
}
