import { JmpError, contract } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { actorOf } from '../http/auth.js';
import { checkAccess } from '../access/check.js';
import { appendAudit } from '../audit/audit.js';
import { mintTicket } from './tickets.js';

export const ticketRoutes: RouteModule = (api, ctx, auth) => {
  api.route('post', '/v1/tickets', {
    summary: 'A one-time ticket for a user to log in to a host (checks the login right)', tags: ['tickets'],
    auth: auth.service('ssh', 'socket', 'rdp', 'sftp'), security: 'service', body: contract.TicketRequest, response: contract.TicketResponse, status: 201,
  }, async ({ body, principal }) => {
    const { decision, facts } = await checkAccess(ctx.db, body.user, body.host, 'login', ctx.now());
    if (!facts.host) throw new JmpError('not_found', `no host named ${body.host}`);
    if (!decision.allow) {
      await appendAudit(ctx.db, { actor: actorOf(principal), action: 'ticket.denied', target: `${body.user}@${body.host}`, data: { reason: decision.reason } });
      throw new JmpError('forbidden', decision.reason);
    }
    const host = await ctx.db('hosts').where({ id: facts.host.id }).first('id', 'hostname', 'addresses', 'ssh_host_keys');
    const t = mintTicket(ctx.ticketKeys, body.user, host.id, ctx.config.ticketTtlSeconds, body.session);
    await appendAudit(ctx.db, { actor: actorOf(principal), action: 'ticket.issued', target: `${body.user}@${host.hostname}`, data: { jti: t.jti, reason: decision.reason, session: body.session ?? null } });
    return { ticket: t.ticket, jti: t.jti, expiresAt: t.expiresAt.toISOString(), host: { id: host.id, hostname: host.hostname, addresses: host.addresses, sshHostKeys: host.ssh_host_keys } };
  });
};
