import { JmpError, contract } from '@jmp/contract';
import type { TicketRequest, TicketResponse } from '@jmp/contract/schemas/tickets';
import type { RouteModule } from '../http/app.js';
import type { Ctx } from '../context.js';
import { actorOf, SESSION_OPENERS, type Principal } from '../http/auth.js';
import { checkAccess } from '../access/check.js';
import { appendAudit } from '../audit/audit.js';
import { mintTicket } from './tickets.js';
import { hopsAllowed, parentSession } from './hop.js';
import { ticketHost } from './repository.js';

/** Checks the login right and mints a ticket; `via` records who asked. */
async function issueTicket(
  ctx: Ctx,
  principal: Principal,
  body: TicketRequest,
  via: Record<string, unknown> = {},
): Promise<TicketResponse> {
  const { decision, facts } = await checkAccess(ctx.db, body.user, body.host, 'login', ctx.now());
  if (!facts.host) throw new JmpError('not_found', `no host named ${body.host}`);
  if (!decision.allow) {
    await appendAudit(ctx.db, {
      actor: actorOf(principal),
      action: 'ticket.denied',
      target: `${body.user}@${body.host}`,
      data: { reason: decision.reason },
    });
    throw new JmpError('forbidden', decision.reason);
  }
  const host = await ticketHost(ctx.db, facts.host.id);
  if (!host) throw new JmpError('not_found', `no host named ${body.host}`);
  const format = body.format ?? 'jwt';
  const t = mintTicket(ctx.ticketKeys, body.user, host.id, ctx.config.ticketTtlSeconds, body.session, format);
  await appendAudit(ctx.db, {
    actor: actorOf(principal),
    action: 'ticket.issued',
    target: `${body.user}@${host.hostname}`,
    data: { jti: t.jti, format, reason: decision.reason, session: body.session ?? null, ...via },
  });
  return {
    ticket: t.ticket,
    jti: t.jti,
    expiresAt: t.expiresAt.toISOString(),
    host: { id: host.id, hostname: host.hostname, addresses: host.addresses, sshHostKeys: host.ssh_host_keys },
  };
}

export const ticketRoutes: RouteModule = (api, ctx, auth) => {
  // Only the services that open target sessions themselves mint login
  // tickets; jmp-socket hands people to jmp-ssh and never needs one.
  api.route(
    'post',
    '/v1/tickets',
    {
      summary: 'A one-time ticket for a user to log in to a host (checks the login right)',
      tags: ['tickets'],
      auth: auth.service(...SESSION_OPENERS),
      security: 'service',
      body: contract.TicketRequest,
      response: contract.TicketResponse,
      status: 201,
    },
    async ({ body, principal }) => issueTicket(ctx, principal, body),
  );

  // `jmp-agent ticket HOST`: a person logged in on a target hops on to another.
  // The agent vouches (by SO_PEERCRED) that `user` is the caller, but root on
  // the host can be anyone locally; so jmp-api also needs a live jmp session of
  // that person on the calling host, and binds the ticket to it (sid claim,
  // audit). The person must also be allowed on the calling host, and both
  // hosts' services must allow hops.
  api.route(
    'post',
    '/v1/agents/tickets',
    {
      summary: 'A one-time ticket for a person in a live jmp session on the calling host to hop to another host',
      tags: ['tickets', 'agents'],
      auth: auth.host(),
      security: 'host',
      body: contract.TicketRequest,
      response: contract.TicketResponse,
      status: 201,
    },
    async ({ body, principal }) => {
      if (principal.kind !== 'host') throw new Error('unreachable');
      const deny = async (reason: string, message = reason): Promise<never> => {
        await appendAudit(ctx.db, {
          actor: actorOf(principal),
          action: 'ticket.denied',
          target: `${body.user}@${body.host}`,
          data: { reason, via: `host:${principal.hostname}` },
        });
        throw new JmpError('forbidden', message);
      };
      const here = await checkAccess(ctx.db, body.user, principal.hostId, 'login', ctx.now());
      if (!here.decision.allow) {
        return deny(
          `not allowed on the calling host: ${here.decision.reason}`,
          `${body.user} may not log in to ${principal.hostname}, so it cannot ask for tickets for them`,
        );
      }
      const hops = await hopsAllowed(ctx, principal.hostId, body.host);
      if (!hops.ok) return deny(hops.reason);
      const parent = await parentSession(ctx, body.user, principal, body.session);
      if (!parent.ok) return deny(parent.reason);
      return issueTicket(
        ctx,
        principal,
        { ...body, session: parent.parentSession },
        { via: `host:${principal.hostname}`, parentSession: parent.parentSession },
      );
    },
  );
};
