// The audit log, read-only: administrators and auditors may search it and
// check that the hash chain is intact.
import { contract as c } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { verifyAuditChain } from '../audit/audit.js';
import { isoNN, readers } from './crud.js';

export const auditRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: audit'];

  api.route('get', '/v1/audit', { summary: 'Search audit events, newest first', tags, auth: readers(auth), security: 'admin', query: c.AuditQuery, response: c.AuditList }, async ({ query }) => {
    const qb = ctx.db('audit_events').select('id', 'at', 'actor', 'action', 'target', 'data');
    if (query.action?.endsWith('.*')) qb.whereRaw('left(action, ?) = ?', [query.action.length - 1, query.action.slice(0, -1)]);
    else if (query.action) qb.where({ action: query.action });
    if (query.actor) qb.where({ actor: query.actor });
    if (query.target) qb.where({ target: query.target });
    if (query.since) qb.where('at', '>=', new Date(query.since));
    if (query.until) qb.where('at', '<', new Date(query.until));
    const rows = await qb.orderBy('id', 'desc').limit(query.limit).offset(query.offset);
    return {
      items: rows.map((r) => ({ id: Number(r.id), at: isoNN(r.at), actor: r.actor, action: r.action, target: r.target, data: r.data })),
      limit: query.limit, offset: query.offset,
    };
  });

  api.route('get', '/v1/audit/verify', { summary: 'Check the audit hash chain; brokenAt is the first row that does not match', tags, auth: readers(auth), security: 'admin', response: c.AuditVerify }, async () =>
    verifyAuditChain(ctx.db));
};
