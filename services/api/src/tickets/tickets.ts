// One-time login tickets (DESIGN flow 2): ES256 JWT, kid, sub = username,
// aud = host id, jti, exp ≤ 60 s. Verified by jmp-api, or offline by the agent
// with the published public keys.
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import type { TicketKeys } from './keys.js';

export const ticketAudience = (hostId: number) => `jmp-host:${hostId}`;

export function mintTicket(keys: TicketKeys, username: string, hostId: number, ttlSeconds: number, session?: string): { ticket: string; jti: string; expiresAt: Date } {
  const { kid, privateKey } = keys.current();
  const jti = randomUUID();
  const ttl = Math.min(60, Math.max(1, ttlSeconds));
  const ticket = jwt.sign(session ? { sid: session } : {}, privateKey, { algorithm: 'ES256', keyid: kid, subject: username, audience: ticketAudience(hostId), jwtid: jti, expiresIn: ttl, issuer: 'jmp-api' });
  return { ticket, jti, expiresAt: new Date(Date.now() + ttl * 1000) };
}

export type TicketCheck = { ok: true; jti: string; exp: number } | { ok: false; reason: string };

/** Signature, audience, subject and expiry. Single use is the caller's job (it needs the store). */
export async function verifyTicket(keys: TicketKeys, ticket: string, username: string, hostId: number): Promise<TicketCheck> {
  const decoded = jwt.decode(ticket, { complete: true });
  const kid = decoded?.header.kid;
  if (!decoded || !kid) return { ok: false, reason: 'ticket is malformed' };
  const key = await keys.publicKey(kid);
  if (!key) return { ok: false, reason: 'ticket is signed by an unknown key' };
  try {
    const p = jwt.verify(ticket, key, { algorithms: ['ES256'], issuer: 'jmp-api', clockTolerance: 2 }) as jwt.JwtPayload;
    if (p.aud !== ticketAudience(hostId)) return { ok: false, reason: 'ticket is for another host' };
    if (p.sub !== username) return { ok: false, reason: 'ticket is for another user' };
    if (!p.jti || !p.exp || !p.iat || p.exp - p.iat > 60) return { ok: false, reason: 'ticket is malformed' };
    return { ok: true, jti: p.jti, exp: p.exp };
  } catch (err) {
    return { ok: false, reason: (err as Error).name === 'TokenExpiredError' ? 'ticket has expired' : 'ticket signature is invalid' };
  }
}
