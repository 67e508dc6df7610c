// PAM questions from a host's agent (DESIGN flow 2 and 3). The host is the
// one whose key signed the request, never one named in the body.
import { JmpError, POLICY_VERSION_HEADER, contract } from '@jmp/contract';
import type { PamDecideRequest, PamDecideResponse } from '@jmp/contract/schemas/pam';
import type { Right } from '@jmp/contract/schemas/primitives';
import type { RouteModule } from '../http/app.js';
import type { Ctx } from '../context.js';
import { checkAccess } from '../access/check.js';
import { appendAudit } from '../audit/audit.js';
import { verifyTicket } from '../tickets/tickets.js';
import { storeCall } from '../store/store.js';
import { policyVersion } from '../access/facts-cache.js';
import { spentKey, spentTtlMs } from './spent.js';

/**
 * sudo always needs the root right: sudo's PAM stack authenticates the
 * invoking user and never reveals the target user, and /etc/sudoers.d/jmp
 * lets jmp users run as anyone, so every sudo is privileged. su names its
 * target (PAM_USER): su to oneself is the login right, to anyone else root.
 */
export function rightFor(req: PamDecideRequest): Right {
  if (req.op === 'sudo') return 'root';
  if (req.op === 'su') return req.runas && req.runas === req.user ? 'login' : 'root';
  return 'login';
}

export async function pamDecide(
  ctx: Ctx,
  host: { hostId: number; hostname: string },
  req: PamDecideRequest,
): Promise<PamDecideResponse> {
  if (req.op === 'session_open' || req.op === 'session_close') {
    await appendAudit(ctx.db, {
      actor: `host:${host.hostname}`,
      action: `pam.${req.op}`,
      target: `${req.user}@${host.hostname}`,
      data: { service: req.service ?? null, rhost: req.rhost ?? null, tty: req.tty ?? null },
    });
    return { allow: true, reason: 'recorded' };
  }
  if ((req.op === 'sudo' || req.op === 'su') && !req.runas)
    throw new JmpError('bad_request', 'body.runas: is required for sudo and su');
  let session: string | undefined;
  if (req.op === 'auth') {
    if (!req.ticket) return audited(ctx, host, req, { allow: false, reason: 'no ticket given; log in through jmp' });
    const t = await verifyTicket(ctx.ticketKeys, req.ticket, req.user, host.hostId);
    if (!t.ok) return audited(ctx, host, req, { allow: false, reason: t.reason });
    // Single use across every jmp-api and every agent that spent it offline (spent.ts):
    // the first SET NX wins; kept until the ticket could no longer verify.
    const ttlMs = Math.max(1000, spentTtlMs(t.exp, Date.now()));
    if (!(await storeCall(() => ctx.store.setIfAbsent(spentKey(t.jti), String(host.hostId), ttlMs)))) {
      return audited(ctx, host, req, { allow: false, reason: 'ticket has already been used' });
    }
    session = t.session;
  }
  const { decision } = await checkAccess(ctx.db, req.user, host.hostId, rightFor(req), ctx.now());
  const answer = { allow: decision.allow, reason: decision.reason };
  if (req.op === 'account') {
    // account follows every successful auth (which is audited); its answers go
    // to the log, so a host cannot flood the audit chain with them.
    ctx.log.info(
      { op: 'account', user: req.user, host: host.hostname, allow: answer.allow, reason: answer.reason },
      'pam decision',
    );
    return answer;
  }
  return audited(ctx, host, req, answer, session);
}

/** `session`: the jmp session the ticket belongs to (for a hop, its parent), so the login is tied to a recording. */
async function audited(
  ctx: Ctx,
  host: { hostname: string },
  req: PamDecideRequest,
  answer: PamDecideResponse,
  session?: string,
): Promise<PamDecideResponse> {
  await appendAudit(ctx.db, {
    actor: `host:${host.hostname}`,
    action: `pam.${req.op}.${answer.allow ? 'allow' : 'deny'}`,
    target: `${req.user}@${host.hostname}`,
    data: {
      reason: answer.reason,
      runas: req.runas ?? null,
      service: req.service ?? null,
      rhost: req.rhost ?? null,
      ...(session ? { session } : {}),
    },
  });
  return answer;
}

export const pamRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'post',
    '/v1/pam/decide',
    {
      summary:
        'A PAM decision for the calling host: auth (with ticket), account, sudo, su, session_open, session_close',
      tags: ['pam'],
      auth: auth.host(),
      security: 'host',
      body: contract.PamDecideRequest,
      response: contract.PamDecideResponse,
    },
    async ({ body, principal, res }) => {
      if (principal.kind !== 'host') throw new Error('unreachable');
      // The policy version with every answer: an agent whose snapshot is older pulls at once (revocations).
      // One trivial query shared with the decision's own version check; never a snapshot build.
      const [answer, version] = await Promise.all([pamDecide(ctx, principal, body), policyVersion(ctx.db)]);
      if (version) res.setHeader(POLICY_VERSION_HEADER, version);
      return answer;
    },
  );
};
