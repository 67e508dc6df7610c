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

export function createApp(ctx: Ctx, modules: RouteModule[]): { app: express.Express; api: ApiRouter; dbHealth: DbHealth } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.set('etag', false);
  const dbHealth = new DbHealth(ctx);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      ctx.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
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
  app.get('/v1/openapi.json', (_req, res) => { res.json(api.openapi(OPENAPI_INFO, OPENAPI_SERVERS)); });
  app.use(api.express);

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}` } } satisfies ErrorBody);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const body = errorBody(err, ctx, dbHealth, req);
    // Agents decide from their snapshot only on this marker (a real outage),
    // never on a 500 or a 503 that a proxy or rate limiter made up.
    if (body.status === 503) res.setHeader(UNAVAILABLE_HEADER, '1');
    res.status(body.status).json({ error: body.error } satisfies ErrorBody);
  });
  return { app, api, dbHealth };
}

function errorBody(err: unknown, ctx: Ctx, dbHealth: DbHealth, req: Request): { status: number; error: ErrorBody['error'] } {
  if (err instanceof JmpError) {
    return { status: err.status, error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
  }
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed') return { status: 400, error: { code: 'bad_request', message: 'body: is not valid JSON' } };
  if (e?.type === 'entity.too.large') return { status: 413 as number, error: { code: 'bad_request', message: 'body: is larger than 256 KiB' } };
  // Postgres refused a value of the request (bad encoding, out of range, invalid text): the input's fault.
  const pgCode = (err as { code?: unknown })?.code;
  if (typeof pgCode === 'string' && /^22[0-9A-Z]{3}$/.test(pgCode)) {
    ctx.log.warn({ code: pgCode, method: req.method, path: req.path }, 'the database refused a value of the request');
    return { status: 400, error: { code: 'bad_request', message: 'a value of the request cannot be stored or compared' } };
  }
  if (isDbUnavailable(err)) {
    dbHealth.down(err);
    return { status: 503, error: { code: 'unavailable', message: 'the database is unavailable; try again shortly' } };
  }
  if ((err as { code?: string })?.code === 'store_unavailable') {
    return { status: 503, error: { code: 'unavailable', message: 'the session store is unavailable; try again shortly' } };
  }
  ctx.log.error({ err, method: req.method, path: req.path }, 'unhandled error');
  return { status: 500, error: { code: 'internal', message: 'internal error' } };
}
