// Who is calling: a jmp service (service token), a host agent (JMP-Host JWT
// signed by its own key), or a person (web session cookie / bearer).
import type { Request } from 'express';
import jwt from 'jsonwebtoken';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { JmpError } from '@jmp/contract';
import type { Ctx } from '../context.js';
import { constantTimeEqual, sha256hex } from '../crypto/secrets.js';
import { sessionRevoked } from '../auth/sessions.js';
import { requestPolicyVersion } from '../access/facts-cache.js';
import { HostTokens, forgetHost, type HostPrincipal } from './host-auth.js';

export const SERVICE_ROLES = ['ssh', 'socket', 'rdp', 'sftp', 'admin'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];
/**
 * The services that open target sessions for a person (log them in to jmp,
 * list their hosts, mint login tickets, report the sessions). jmp-socket is
 * not one: it hands the browser to jmp-ssh (docs/decisions.md, service roles).
 */
export const SESSION_OPENERS = ['ssh', 'sftp', 'rdp'] as const satisfies readonly ServiceRole[];

export interface SessionUser {
  id: number;
  username: string;
  isAdmin: boolean;
  isAuditor: boolean;
}

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'service'; role: ServiceRole }
  | HostPrincipal
  | { kind: 'user'; user: SessionUser; via: 'cookie' | 'bearer' };

export const SESSION_COOKIE = 'jmp_session';
const SESSION_AUD = 'jmp-session';
const SERVICE_AUD = 'jmp-service';

// jsonwebtoken first tries a raw secret as a public key (an OpenSSL parse that
// fails and throws) on every call: handing it a KeyObject skips that on every
// service token and session check.
const secretKeys = new WeakMap<Buffer, KeyObject>();
function hmacKey(secret: Buffer): KeyObject {
  let k = secretKeys.get(secret);
  if (!k) secretKeys.set(secret, (k = createSecretKey(secret)));
  return k;
}

export function mintServiceToken(ctx: Pick<Ctx, 'secrets'>, role: ServiceRole): string {
  return jwt.sign({ role }, hmacKey(ctx.secrets.serviceKey), {
    algorithm: 'HS256',
    audience: SERVICE_AUD,
    subject: `service:${role}`,
    jwtid: randomBytes(8).toString('hex'),
  });
}

export function mintSession(
  ctx: Pick<Ctx, 'secrets' | 'config'>,
  user: SessionUser,
): { token: string; csrfToken: string; expiresAt: Date } {
  const csrfToken = randomBytes(24).toString('base64url');
  const ttl = ctx.config.sessionTtlSeconds;
  // jti: what logout revokes; at (ms): what a password change revokes up to (auth/sessions.ts).
  const token = jwt.sign(
    { uid: user.id, csrf: sha256hex(csrfToken), at: Date.now() },
    hmacKey(ctx.secrets.sessionKey),
    {
      algorithm: 'HS256',
      audience: SESSION_AUD,
      subject: user.username,
      expiresIn: ttl,
      jwtid: randomBytes(16).toString('base64url'),
    },
  );
  return { token, csrfToken, expiresAt: new Date(Date.now() + ttl * 1000) };
}

/** Checks a session JWT handed over by a service (jmp-socket's handshake); says whether it only expired. */
export function checkSessionToken(
  ctx: Pick<Ctx, 'secrets'>,
  token: string,
): { uid: number; username: string; expiresAt: Date; jti?: unknown; at?: unknown } | 'expired' | 'invalid' {
  try {
    const p = jwt.verify(token, hmacKey(ctx.secrets.sessionKey), { algorithms: ['HS256'], audience: SESSION_AUD }) as {
      uid?: unknown;
      sub?: unknown;
      exp?: unknown;
      jti?: unknown;
      at?: unknown;
    };
    if (typeof p.uid !== 'number' || typeof p.sub !== 'string' || typeof p.exp !== 'number') return 'invalid';
    return { uid: p.uid, username: p.sub, expiresAt: new Date(p.exp * 1000), jti: p.jti, at: p.at };
  } catch (err) {
    return err instanceof jwt.TokenExpiredError ? 'expired' : 'invalid';
  }
}

function bearer(req: Request, scheme: string): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const sp = h.indexOf(' ');
  if (sp < 0 || h.slice(0, sp).toLowerCase() !== scheme.toLowerCase()) return null;
  return h.slice(sp + 1).trim();
}

function cookie(req: Request, name: string): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** The session JWT a request carries: the cookie, else a bearer token. */
export function sessionTokenOf(req: Request): string | null {
  return cookie(req, SESSION_COOKIE) ?? bearer(req, 'Bearer');
}

function verifyService(ctx: Ctx, token: string): ServiceRole | null {
  try {
    const p = jwt.verify(token, hmacKey(ctx.secrets.serviceKey), { algorithms: ['HS256'], audience: SERVICE_AUD }) as {
      role?: string;
    };
    return SERVICE_ROLES.includes(p.role as ServiceRole) ? (p.role as ServiceRole) : null;
  } catch {
    return null;
  }
}

async function verifySession(ctx: Ctx, req: Request): Promise<Principal | null> {
  const fromCookie = cookie(req, SESSION_COOKIE);
  const token = fromCookie ?? bearer(req, 'Bearer');
  if (!token) return null;
  let p: { uid: number; csrf: string; sub: string; jti?: unknown; at?: unknown };
  try {
    p = jwt.verify(token, hmacKey(ctx.secrets.sessionKey), {
      algorithms: ['HS256'],
      audience: SESSION_AUD,
    }) as typeof p;
  } catch {
    return null;
  }
  // Cookies ride along on cross-site requests; a state change also needs the
  // CSRF token that only our own page has (double submit, hashed in the JWT).
  if (fromCookie && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    const sent = req.headers['x-jmp-csrf'];
    if (typeof sent !== 'string' || !constantTimeEqual(sha256hex(sent), p.csrf))
      throw new JmpError('forbidden', 'missing or wrong X-JMP-CSRF header');
  }
  if (await sessionRevoked(ctx, p)) return null; // logged out, or the password changed since
  const row = await ctx.db('users').where({ id: p.uid }).first('id', 'username', 'status', 'is_admin', 'is_auditor');
  if (!row || row.status !== 'active' || row.username !== p.sub) return null;
  return {
    kind: 'user',
    via: fromCookie ? 'cookie' : 'bearer',
    user: { id: row.id, username: row.username, isAdmin: row.is_admin, isAuditor: row.is_auditor },
  };
}

/** Forgets a host's remembered key and tokens (its key, name or enrolment changed). */
export const forgetHostKey = forgetHost;

/** Auth rules for RouteSpec.auth. Each throws 401/403 with a sentence. */
export function authRules(ctx: Ctx) {
  const hostTokens = new HostTokens(ctx.db);
  const unauthorized = (what: string) => new JmpError('unauthorized', `${what} required`);
  return {
    service:
      (...roles: ServiceRole[]) =>
      async (req: Request): Promise<Principal> => {
        const t = bearer(req, 'Bearer');
        const role = t ? verifyService(ctx, t) : null;
        if (!role) throw unauthorized('a valid service token (Authorization: Bearer <JMP_SERVICE_TOKEN>) is');
        if (!roles.includes(role)) throw new JmpError('forbidden', `service role ${role} may not call this endpoint`);
        return { kind: 'service', role };
      },
    host:
      () =>
      async (req: Request): Promise<Principal> => {
        const t = bearer(req, 'JMP-Host');
        // The policy version read is the request's own: the route (a poll) reuses it.
        const p = t ? await hostTokens.verify(t, () => requestPolicyVersion(ctx.db, req)) : null;
        if (!p) throw unauthorized('a valid host token (Authorization: JMP-Host <jwt>) is');
        return p;
      },
    user:
      (opts: { admin?: boolean; auditor?: boolean } = {}) =>
      async (req: Request): Promise<Principal> => {
        const p = await verifySession(ctx, req);
        if (!p || p.kind !== 'user') throw unauthorized('a valid session is');
        if (opts.admin && !p.user.isAdmin) throw new JmpError('forbidden', 'administrators only');
        if (opts.auditor && !p.user.isAdmin && !p.user.isAuditor)
          throw new JmpError('forbidden', 'administrators and auditors only');
        return p;
      },
    /** An admin person, or the admin service token (automation). */
    admin:
      () =>
      async (req: Request): Promise<Principal> => {
        const t = bearer(req, 'Bearer');
        const role = t ? verifyService(ctx, t) : null;
        if (role === 'admin') return { kind: 'service', role };
        const p = await verifySession(ctx, req);
        if (!p || p.kind !== 'user') throw unauthorized('an administrator session or the admin service token is');
        if (!p.user.isAdmin) throw new JmpError('forbidden', 'administrators only');
        return p;
      },
  };
}
export type AuthRules = ReturnType<typeof authRules>;

export function actorOf(p: Principal): string {
  switch (p.kind) {
    case 'user':
      return `user:${p.user.username}`;
    case 'service':
      return `service:${p.role}`;
    case 'host':
      return `host:${p.hostname}`;
    default:
      return 'anonymous';
  }
}
