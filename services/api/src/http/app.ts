// The express app: body limits, metrics, routes, 404, and one error handler
// that turns every failure into {error:{code,message}} with the right status.
import express, { type Request, type Response, type NextFunction } from 'express';
import { JmpError, UNAVAILABLE_HEADER, type ErrorBody } from '@jmp/contract';
import type { Ctx } from '../context.js';
import { ApiRouter, assertStorable } from './routes.js';
import { authRules, type AuthRules } from './auth.js';
import { DbHealth, isDbUnavailable } from './db-health.js';

export type RouteModule = (api: ApiRouter, ctx: Ctx, auth: AuthRules) => void;

const OPENAPI_INFO = {
  title: 'jmp-api',
  version: '1',
  description: 'The API of jmp, a jump host that stores no target credentials: identities, grants, tickets, sessions.',
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
};
// Relative: the API is wherever this document was fetched from (directly, or behind the web console's proxy).
const OPENAPI_SERVERS = [{ url: '/', description: 'the jmp-api that served this document' }];

export function createApp(
  ctx: Ctx,
  modules: RouteModule[],
): { app: express.Express; api: ApiRouter; dbHealth: DbHealth } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('etag', false);
  const dbHealth = new DbHealth(ctx);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      ctx.metrics.httpDuration.observe(
        { method: req.method, route, status: String(res.statusCode) },
        Number(process.hrtime.bigint() - start) / 1e9,
      );
    });
    next();
  });
  app.use(express.json({ limit: '256kb', strict: true }));
  // Every route, routed by ApiRouter or not: no NUL or unpaired surrogate in a body or query reaches a handler.
  app.use((req, _res, next) => {
    try {
      assertStorable(req.body, 'body');
      assertStorable(req.query, 'query');
      next();
    } catch (err) {
      next(err);
    }
  });

  const api = new ApiRouter();
  const auth = authRules(ctx);
  for (const m of modules) m(api, ctx, auth);
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(api.openapi(OPENAPI_INFO, OPENAPI_SERVERS));
  });
  app.use(api.express);

  app.use((req: Request, _res: Response, next: NextFunction) => {
    next(new JmpError('not_found', `no route ${req.method} ${req.path}`));
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = asJmpError(err, ctx, dbHealth, req);
    // Agents decide from their snapshot only on this marker (a real outage),
    // never on a 500 or a 503 that a proxy or rate limiter made up.
    if (e.code === 'unavailable') res.setHeader(UNAVAILABLE_HEADER, '1');
    const details = e.details ? { details: e.details } : {};
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...details } } satisfies ErrorBody);
  });
  return { app, api, dbHealth };
}

/** Every failure as a JmpError: its code gives the status (the ERRORS catalogue), its message what to do. */
function asJmpError(err: unknown, ctx: Ctx, dbHealth: DbHealth, req: Request): JmpError {
  if (err instanceof JmpError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') return new JmpError('bad_request', 'body: is not valid JSON');
  if (e?.type === 'entity.too.large') return new JmpError('too_large', 'body: is larger than 256 KiB');
  // Postgres refused a value of the request (bad encoding, out of range, invalid text): the input's fault.
  const pgCode = (err as { code?: unknown })?.code;
  if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
    ctx.log.warn({ code: pgCode, method: req.method, path: req.path }, 'the database refused a value of the request');
    return new JmpError('bad_request', 'a value of the request cannot be stored or compared');
  }
  if (isDbUnavailable(err)) {
    dbHealth.down(err);
    return new JmpError('unavailable', 'the database is unavailable; try again shortly');
  }
  if ((err as { code?: string })?.code === 'store_unavailable') {
    return new JmpError('unavailable', 'the session store is unavailable; try again shortly');
  }
  ctx.log.error({ err, method: req.method, path: req.path }, 'unhandled error');
  return new JmpError('internal');
}
