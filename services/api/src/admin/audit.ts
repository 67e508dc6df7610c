// The audit log, read-only: administrators and auditors may search it and
// check that the hash chain is intact.
import { contract as c } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { verifyAuditChain } from '../audit/audit.js';
import { isoNN, readers } from './crud.js';
import { searchAudit } from './repository/audit.js';

export const auditRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: audit'];

  api.route(
    'get',
    '/v1/audit',
    {
      summary: 'Search audit events, newest first',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.AuditQuery,
      response: c.AuditList,
    },
    async ({ query }) => {
      const rows = await searchAudit(ctx.db, query);
      return {
        items: rows.map((r) => ({
          id: Number(r.id),
          at: isoNN(r.at),
          actor: r.actor,
          action: r.action,
          target: r.target,
          data: r.data,
        })),
        limit: query.limit,
        offset: query.offset,
      };
    },
  );

  api.route(
    'get',
    '/v1/audit/verify',
    {
      summary: 'Check the audit hash chain; brokenAt is the first row that does not match',
      tags,
      auth: readers(auth),
      security: 'admin',
      response: c.AuditVerify,
    },
    async () => verifyAuditChain(ctx.db),
  );
};
