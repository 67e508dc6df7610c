// File operations through jmp-sftp and jmp-ssh's sftp subsystem: the services
// send them in batches (a spooled batch may come twice: stored once), ask a
// host's file transfer setting, and administrators and auditors list them.
import { JmpError } from '@jmp/contract';
import * as f from '@jmp/contract/schemas/files';
import { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { actorOf } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import * as repo from './repository.js';

export const fileRoutes: RouteModule = (api, ctx, auth) => {
  // Least privilege: only the services that proxy SFTP report file operations.
  const proxies = auth.service('sftp', 'ssh');
  const tags = ['files'];

  api.route(
    'post',
    '/v1/file-operations',
    {
      summary: 'File operations of sftp sessions, in a batch',
      tags,
      auth: proxies,
      security: 'service',
      body: f.FileOperationBatch,
      status: 201,
    },
    async ({ body, principal }) => {
      const sessions = [...new Set(body.operations.flatMap((o) => (o.session ? [o.session] : [])))];
      await repo.insertOperations(ctx.db, body.operations, await repo.existingSessions(ctx.db, sessions));
      for (const o of body.operations.filter((x) => x.result === 'refused')) {
        await appendAudit(ctx.db, {
          actor: actorOf(principal),
          action: 'file.refused',
          target: `${o.user}@${o.host}`,
          data: { operation: o.operation, path: o.path.slice(0, 1024), reason: o.message ?? null },
        });
      }
      return { stored: body.operations.length };
    },
  );

  api.route(
    'get',
    '/v1/file-operations/policy',
    {
      summary: "A host's file transfer setting (from its service): full, download-only or none",
      tags,
      auth: proxies,
      security: 'service',
      query: z.object({ host: z.string().min(1).max(253) }),
      response: f.FileTransferPolicy,
    },
    async ({ query }) => {
      const mode = await repo.transferMode(ctx.db, query.host);
      if (!mode) throw new JmpError('not_found', `no host named ${query.host}`);
      return { host: query.host, mode };
    },
  );

  api.route(
    'get',
    '/v1/file-operations',
    {
      summary: "File operations: everyone's for administrators and auditors, else one's own",
      tags,
      auth: auth.user(),
      security: 'user',
      query: f.FileOperationQuery,
      response: f.FileOperationList,
    },
    async ({ query, principal }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const mine = principal.user.isAdmin || principal.user.isAuditor ? undefined : principal.user.username;
      return repo.listOperations(ctx.db, query, mine);
    },
  );
};
