import { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { pingDb } from '../http/db-health.js';

export const healthRoutes: RouteModule = (api, ctx) => {
  api.route(
    'get',
    '/healthz',
    {
      summary: 'Liveness and readiness: database and store reachable',
      tags: ['ops'],
      auth: null,
      response: z.object({ ok: z.boolean(), db: z.boolean(), store: z.boolean() }),
    },
    async ({ res }) => {
      const [db, store] = await Promise.all([
        pingDb(ctx.db).then(
          () => true,
          () => false,
        ),
        ctx.store.ping().then(
          () => true,
          () => false,
        ),
      ]);
      res.status(db && store ? 200 : 503).json({ ok: db && store, db, store });
    },
  );
  api.route('get', '/metrics', { summary: 'Prometheus metrics', tags: ['ops'], auth: null }, async ({ res }) => {
    res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
};
