// Desktops (DESIGN flow 8): the console asks for a token for a host; jmp-rdp
// redeems it, once, before it upgrades the browser's WebSocket.
import { randomBytes } from 'node:crypto';
import { JmpError, contract } from '@jmp/contract';
import type { DesktopRedeemResponse, DesktopTokenResponse } from '@jmp/contract/schemas/desktop';
import type { RouteModule } from '../http/app.js';
import type { Ctx } from '../context.js';
import { actorOf, checkSessionToken, type Principal } from '../http/auth.js';
import { checkAccess } from '../access/check.js';
import { appendAudit } from '../audit/audit.js';
import { sessionRevoked } from '../auth/sessions.js';
import { storeCall } from '../store/store.js';
import { openDesktopToken, sealDesktopToken, type DesktopClaims } from './token.js';
import { desktopHost } from './repository.js';
import { desktopRecordingRoutes } from './recording.js';

// The spent mark outlives the token, so a late second use still reads "already used".
const SPENT_AFTER_EXPIRY_MS = 60_000;
const liveKey = (jti: string) => `desktok:${jti}`;
const spentKey = (jti: string) => `desktok-spent:${jti}`;

const credentialsOf = (kind: string) => (kind === 'windows' ? ('typed' as const) : ('ticket' as const));

async function deny(ctx: Ctx, principal: Principal, target: string, reason: string, message = reason): Promise<never> {
  await appendAudit(ctx.db, { actor: actorOf(principal), action: 'desktop.denied', target, data: { reason } });
  throw new JmpError('forbidden', message);
}

async function issue(ctx: Ctx, principal: Principal, hostname: string): Promise<DesktopTokenResponse> {
  if (principal.kind !== 'user') throw new Error('unreachable');
  const { user } = principal;
  const { decision, facts } = await checkAccess(ctx.db, user.username, hostname, 'login', ctx.now());
  if (!facts.host) throw new JmpError('not_found', `no host named ${hostname}`);
  if (!decision.allow) return deny(ctx, principal, `${user.username}@${hostname}`, decision.reason);
  const host = await desktopHost(ctx.db, facts.host.id);
  if (!host) throw new JmpError('not_found', `no host named ${hostname}`);
  if (host.kind !== 'linux' && host.kind !== 'windows')
    throw new JmpError('bad_request', `${hostname} is a ${host.kind}, which has no desktop`);
  const ttlMs = ctx.config.desktopTokenTtlSeconds * 1000;
  const claims: DesktopClaims = {
    jti: randomBytes(16).toString('base64url'),
    uid: user.id,
    user: user.username,
    hostId: host.id,
    exp: Date.now() + ttlMs,
  };
  const stored = await storeCall(() => ctx.store.setIfAbsent(liveKey(claims.jti), JSON.stringify(claims), ttlMs));
  if (!stored) throw new JmpError('internal', 'could not store a fresh desktop token; try again');
  await appendAudit(ctx.db, {
    actor: actorOf(principal),
    action: 'desktop.token',
    target: `${user.username}@${host.hostname}`,
    data: { jti: claims.jti, reason: decision.reason },
  });
  return {
    token: sealDesktopToken(ctx.secrets.desktopKey, host.hostname, claims),
    expiresAt: new Date(claims.exp).toISOString(),
    host: host.hostname,
    credentials: credentialsOf(host.kind),
  };
}

/** Checks, then spends (SET NX: of two concurrent redeems on any instances, one passes). */
async function redeem(ctx: Ctx, principal: Principal, token: string, session: string): Promise<DesktopRedeemResponse> {
  const invalid = () => new JmpError('unauthorized', 'the desktop link is not valid; open the desktop again');
  const claims = openDesktopToken(ctx.secrets.desktopKey, token);
  if (!claims) throw invalid();
  if (claims.exp <= Date.now()) throw new JmpError('unauthorized', 'the desktop link expired; open the desktop again');
  const s = checkSessionToken(ctx, session);
  if (s === 'expired') throw new JmpError('unauthorized', 'your web session expired, log in again');
  if (s === 'invalid' || (await sessionRevoked(ctx, s)))
    throw new JmpError('unauthorized', 'the web session is not valid; log in again');
  if (s.uid !== claims.uid || s.username !== claims.user)
    return deny(
      ctx,
      principal,
      `${claims.user}@host#${claims.hostId}`,
      `desktop token of ${claims.user} used by ${s.username}`,
      'this desktop link belongs to another person',
    );
  const first = await storeCall(() =>
    ctx.store.setIfAbsent(spentKey(claims.jti), '1', claims.exp - Date.now() + SPENT_AFTER_EXPIRY_MS),
  );
  if (!first) throw new JmpError('unauthorized', 'this desktop link was already used; open the desktop again');
  const issued = await storeCall(() => ctx.store.get(liveKey(claims.jti)));
  await storeCall(() => ctx.store.del(liveKey(claims.jti)));
  if (!issued) throw new JmpError('unauthorized', 'the desktop link expired; open the desktop again');
  const was = JSON.parse(issued) as DesktopClaims;
  if (was.uid !== claims.uid || was.hostId !== claims.hostId || was.user !== claims.user || was.exp !== claims.exp)
    throw invalid();
  // The right may have ended since the token was issued.
  const { decision } = await checkAccess(ctx.db, claims.user, claims.hostId, 'login', ctx.now());
  const host = await desktopHost(ctx.db, claims.hostId);
  if (!host) throw new JmpError('not_found', 'the host of this desktop no longer exists');
  if (!decision.allow) return deny(ctx, principal, `${claims.user}@${host.hostname}`, decision.reason);
  const address = host.addresses[0];
  if (!address) throw new JmpError('conflict', `${host.hostname} has no address registered`);
  await appendAudit(ctx.db, {
    actor: actorOf(principal),
    action: 'desktop.redeemed',
    target: `${claims.user}@${host.hostname}`,
    data: { jti: claims.jti },
  });
  return {
    user: claims.user,
    jti: claims.jti,
    host: { id: host.id, hostname: host.hostname, kind: host.kind, address, port: host.rdp_port },
    credentials: credentialsOf(host.kind),
    policy: { clipboard: host.rdp_clipboard ?? host.state !== 'online', drive: host.rdp_drive ?? false },
  };
}

export const desktopRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'post',
    '/v1/desktop/tokens',
    {
      summary: 'A single-use token (≤ 60 s) that opens the desktop of a host in the browser (checks the login right)',
      tags: ['desktop'],
      auth: auth.user(),
      security: 'user',
      body: contract.DesktopTokenRequest,
      response: contract.DesktopTokenResponse,
      status: 201,
    },
    async ({ body, principal }) => issue(ctx, principal, body.host),
  );
  api.route(
    'post',
    '/v1/desktop/redeem',
    {
      summary: "Spend a desktop token for the browser's web session; answers the target and the policy (jmp-rdp)",
      tags: ['desktop'],
      auth: auth.service('rdp'),
      security: 'service',
      body: contract.DesktopRedeemRequest,
      response: contract.DesktopRedeemResponse,
    },
    async ({ body, principal }) => redeem(ctx, principal, body.token, body.session),
  );
  desktopRecordingRoutes(api, ctx, auth);
};
