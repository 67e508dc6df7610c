// Who is calling: a jmp service (service token), a host agent (JMP-Host JWT
// signed by its own key), or a person (web session cookie / bearer).
import type { Request } from 'express';
import jwt from 'jsonwebtoken';
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { JmpError } from '@jmp/contract';
import type { Ctx } from '../context.js';
import { constantTimeEqual, sha256hex } from '../crypto/secrets.js';
import { sessionRevoked } from '../auth/sessions.js';

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
  | { kind: 'host'; hostId: number; hostname: string }
  | { kind: 'user'; user: SessionUser; via: 'cookie' | 'bearer' };

export const SESSION_COOKIE = 'jmp_session';
const SESSION_AUD = 'jmp-session';
const SERVICE_AUD = 'jmp-service';
const HOST_AUD = 'jmp-api';

export function mintServiceToken(ctx: Pick<Ctx, 'secrets'>, role: ServiceRole): string {
  return jwt.sign({ role }, ctx.secrets.serviceKey, {
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
  const token = jwt.sign({ uid: user.id, csrf: sha256hex(csrfToken), at: Date.now() }, ctx.secrets.sessionKey, {
    algorithm: 'HS256',
    audience: SESSION_AUD,
    subject: user.username,
    expiresIn: ttl,
    jwtid: randomBytes(16).toString('base64url'),
  });
  return { token, csrfToken, expiresAt: new Date(Date.now() + ttl * 1000) };
}

/** Checks a session JWT handed over by a service (jmp-socket's handshake); says whether it only expired. */
export function checkSessionToken(
  ctx: Pick<Ctx, 'secrets'>,
  token: string,
): { uid: number; username: string; expiresAt: Date; jti?: unknown; at?: unknown } | 'expired' | 'invalid' {
  try {
    const p = jwt.verify(token, ctx.secrets.sessionKey, { algorithms: ['HS256'], audience: SESSION_AUD }) as {
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
    const p = jwt.verify(token, ctx.secrets.serviceKey, { algorithms: ['HS256'], audience: SERVICE_AUD }) as {
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
    p = jwt.verify(token, ctx.secrets.sessionKey, { algorithms: ['HS256'], audience: SESSION_AUD }) as typeof p;
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

// Host public keys change only at enrolment; a short cache keeps the hot PAM path off Postgres.
const hostKeyCache = new Map<number, { key: KeyObject | null; hostname: string; at: number }>();
const HOST_KEY_TTL_MS = 10_000;
// An agent reuses its token for many questions; verifying ECDSA each time
// would dominate the PAM hot path. A verified token is remembered until it
// expires, at most as long as the key itself is cached.
const verifiedTokens = new Map<string, { principal: Principal & { kind: 'host' }; until: number }>();
const VERIFIED_MAX = 20_000;

export const forgetHostKey = (hostId: number) => {
  hostKeyCache.delete(hostId);
  for (const [t, v] of verifiedTokens) if (v.principal.hostId === hostId) verifiedTokens.delete(t);
};

async function verifyHost(ctx: Ctx, token: string): Promise<Principal | null> {
  const known = verifiedTokens.get(token);
  if (known) {
    if (known.until > Date.now()) return known.principal;
    verifiedTokens.delete(token);
  }
  const p = await verifyHostSignature(ctx, token);
  if (p) {
    if (verifiedTokens.size >= VERIFIED_MAX) verifiedTokens.clear();
    verifiedTokens.set(token, { principal: p.principal, until: Math.min(p.exp * 1000, Date.now() + HOST_KEY_TTL_MS) });
  }
  return p?.principal ?? null;
}

async function verifyHostSignature(
  ctx: Ctx,
  token: string,
): Promise<{ principal: Principal & { kind: 'host' }; exp: number } | null> {
  const decoded = jwt.decode(token, { complete: true });
  const hostId = Number((decoded?.payload as { sub?: string } | null)?.sub?.replace(/^host:/, ''));
  if (!decoded || !Number.isInteger(hostId) || hostId <= 0) return null;
  let entry = hostKeyCache.get(hostId);
  if (!entry || Date.now() - entry.at > HOST_KEY_TTL_MS) {
    const row = await ctx.db('hosts').where({ id: hostId }).first('hostname', 'agent_public_key');
    entry = {
      key: row?.agent_public_key ? createPublicKey(row.agent_public_key) : null,
      hostname: row?.hostname ?? '',
      at: Date.now(),
    };
    hostKeyCache.set(hostId, entry);
  }
  if (!entry.key) return null;
  try {
    const p = jwt.verify(token, entry.key, {
      algorithms: ['ES256'],
      audience: HOST_AUD,
      maxAge: '60s',
    }) as jwt.JwtPayload;
    if (!p.exp || !p.iat || p.exp - p.iat > 60) return null; // exp ≤ 60 s (DESIGN)
    return { principal: { kind: 'host', hostId, hostname: entry.hostname }, exp: p.exp };
  } catch {
    return null;
  }
}

/** Auth rules for RouteSpec.auth. Each throws 401/403 with a sentence. */
export function authRules(ctx: Ctx) {
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
        const p = t ? await verifyHost(ctx, t) : null;
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
