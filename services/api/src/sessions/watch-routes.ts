// Watching a live session from the console (administrators and auditors):
// GET /v1/sessions/:id/watch polls its output; the first poll of a watch is
// audited. jmp-ssh sends the output of watched sessions with
// POST /v1/sessions/:id/output. There is no input path.
import { JmpError, contract as c } from '@jmp/contract';
import { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { actorOf } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { readers } from '../admin/crud.js';
import { storeCall } from '../store/store.js';
import { liveFlags } from './live.js';
import { pushOutput, readOutput, watch } from './watch.js';
import * as repo from './repository.js';

const IdParam = z.object({ id: z.string().uuid() });

export const watchRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'get',
    '/v1/sessions/:id/watch',
    {
      summary: "A live session's output since `after` (read-only; the first call of a watch is audited)",
      tags: ['admin: sessions'],
      auth: readers(auth),
      security: 'admin',
      params: IdParam,
      query: c.WatchQuery,
      response: c.WatchAnswer,
    },
    async ({ params, query, principal, res }) => {
      const s = await repo.sessionState(ctx.db, params.id);
      if (!s) throw new JmpError('not_found', `no session ${params.id}`);
      const [live] = s.endedAt ? [false] : await storeCall(() => liveFlags(ctx.store, [params.id]));
      if (live && (await storeCall(() => watch(ctx.store, params.id))))
        await appendAudit(ctx.db, { actor: actorOf(principal), action: 'session.watch', target: params.id, data: {} });
      const out = await storeCall(() => readOutput(ctx.store, params.id, query.after));
      res.setHeader('cache-control', 'no-store');
      return { ...out, live: !!live };
    },
  );

  api.route(
    'post',
    '/v1/sessions/:id/output',
    {
      summary: 'Output of a watched session, from the jmp-ssh that runs it',
      tags: ['sessions'],
      auth: auth.service('ssh'),
      security: 'service',
      params: IdParam,
      body: c.LiveOutput,
    },
    async ({ params, body }) => {
      await storeCall(() => pushOutput(ctx.store, params.id, body.chunks));
      return undefined;
    },
  );
};
