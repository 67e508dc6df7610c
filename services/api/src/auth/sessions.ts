// Server-side end of web sessions. The session cookie is a JWT that carries
// an id (jti) and its mint time in ms (`at`); logout revokes that id until the
// JWT would have expired anyway, and a password change or disabling revokes
// every session of the person minted up to then. Checked on every request
// made with a session (and when jmp-socket trades one for a web credential).
import type { Ctx } from '../context.js';
import { storeCall } from '../store/store.js';

const revokedKey = (jti: string) => `session-revoked:${jti}`;
const cutoffKey = (uid: number) => `session-cutoff:${uid}`;

export interface SessionClaims {
  jti?: unknown;
  uid: number;
  at?: unknown;
}

/** Revokes one session (logout) until its expiry, `exp` in seconds since the epoch. */
export async function revokeSession(ctx: Pick<Ctx, 'store'>, jti: string, exp: number): Promise<void> {
  const ttlMs = exp * 1000 - Date.now();
  if (ttlMs > 0) await storeCall(() => ctx.store.set(revokedKey(jti), '1', ttlMs));
}

/** Revokes every session of a person minted until now (password set, user disabled or deleted). */
export async function revokeUserSessions(ctx: Pick<Ctx, 'store' | 'config'>, uid: number): Promise<void> {
  await storeCall(() => ctx.store.set(cutoffKey(uid), String(Date.now()), ctx.config.sessionTtlSeconds * 1000));
}

/** True when the session was revoked, or lacks the claims that make revocation possible. */
export async function sessionRevoked(ctx: Pick<Ctx, 'store'>, s: SessionClaims): Promise<boolean> {
  if (typeof s.jti !== 'string' || !s.jti || typeof s.at !== 'number') return true;
  const [revoked, cutoff] = await storeCall(() => ctx.store.getMany([revokedKey(s.jti as string), cutoffKey(s.uid)]));
  return revoked !== null || (cutoff !== null && s.at <= Number(cutoff));
}
