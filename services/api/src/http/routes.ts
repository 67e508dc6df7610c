// One declaration per endpoint: the zod schemas validate the request and
// describe it in /v1/openapi.json, so the document cannot drift from the code.
import express, { type Request, type Response, type NextFunction } from 'express';
import { z } from 'zod';
import { JmpError } from '@jmp/contract';
import { findUnstorable, UNSTORABLE_MESSAGE } from '@jmp/contract/schemas/primitives';
import type { Principal } from './auth.js';

export type AuthRule = (req: Request) => Promise<Principal>;

/** Who may call a route, as the OpenAPI document says it (see SECURITY). Required exactly when `auth` is set. */
export type SecurityName = 'service' | 'host' | 'user' | 'admin';

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  summary: string;
  tags: string[];
  /** Unique; by default derived from method and path (operationIdOf). */
  operationId?: string;
  auth: AuthRule | null;
  security?: SecurityName;
  body?: B;
  query?: Q;
  params?: P;
  response?: z.ZodType;
  status?: number;
}

export interface HandlerInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  req: Request;
  res: Response;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

// The credentials jmp-api accepts (http/auth.ts), one OpenAPI security scheme each.
const SECURITY_SCHEMES = {
  serviceToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'JMP_SERVICE_TOKEN of a jmp service (its role decides which endpoints)',
  },
  hostToken: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: '"JMP-Host <jwt>" signed by the host agent key (ES256, exp ≤ 60 s)',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'jmp_session',
    description: 'web session; unsafe methods also need the X-JMP-CSRF header',
  },
  sessionBearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'the web session token as a bearer token (the CLI)',
  },
} as const;
type SchemeName = keyof typeof SECURITY_SCHEMES;

/** Each SecurityName as OpenAPI alternatives (any one suffices). Roles and admin rights are checked on top. */
const SECURITY: Record<SecurityName, SchemeName[]> = {
  service: ['serviceToken'],
  host: ['hostToken'],
  user: ['sessionCookie', 'sessionBearer'],
  admin: ['sessionCookie', 'sessionBearer', 'serviceToken'],
};

/** `get /v1/users/:id/keys` → getUsersByIdKeys: the method, then the path without /v1, params as By<Name>. */
export function operationIdOf(method: Method, path: string): string {
  const words = path
    .split('/')
    .filter((seg) => seg && seg !== 'v1')
    .flatMap((seg) =>
      seg.startsWith(':') ? ['by', ...seg.slice(1).split(/[^A-Za-z0-9]+/)] : seg.split(/[^A-Za-z0-9]+/),
    );
  return (
    method +
    words
      .filter(Boolean)
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join('')
  );
}

export class ApiRouter {
  readonly express = express.Router();
  private readonly paths: Record<string, Record<string, unknown>> = {};
  private readonly operationIds = new Set<string>();

  route<
    B extends z.ZodType = z.ZodUndefined,
    Q extends z.ZodType = z.ZodUndefined,
    P extends z.ZodType = z.ZodUndefined,
  >(
    method: Method,
    path: string,
    spec: RouteSpec<B, Q, P>,
    handler: (input: HandlerInput<z.output<B>, z.output<Q>, z.output<P>>) => Promise<unknown>,
  ): void {
    this.document(method, path, spec);
    this.express[method](path, async (req: Request, res: Response, next: NextFunction) => {
      try {
        // Before anything reads the input (auth included): a string Postgres cannot store is a 400 on every route.
        assertStorable(req.body, 'body');
        assertStorable(req.query, 'query');
        assertStorable(req.params, 'path');
        const principal: Principal = spec.auth ? await spec.auth(req) : { kind: 'anonymous' };
        const body = spec.body ? parse(spec.body, req.body ?? {}, 'body') : undefined;
        const query = spec.query ? parse(spec.query, req.query, 'query') : undefined;
        const params = spec.params ? parse(spec.params, req.params, 'path') : undefined;
        const out = await handler({ body, query, params, principal, req, res } as HandlerInput<
          z.output<B>,
          z.output<Q>,
          z.output<P>
        >);
        if (res.headersSent) return;
        if (out === undefined) res.status(spec.status ?? 204).end();
        else res.status(spec.status ?? 200).json(out);
      } catch (err) {
        next(err);
      }
    });
  }

  private document(method: Method, path: string, spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>): void {
    const oaPath = path.replace(/:(\w+)/g, '{$1}');
    const route = `${method.toUpperCase()} ${path}`;
    // The document is the contract: a protected route that does not say how to authenticate is a bug at startup.
    if (!spec.auth !== !spec.security) {
      throw new Error(`${route}: a route with auth must declare its security, and a public one none`);
    }
    const operationId = spec.operationId ?? operationIdOf(method, path);
    if (this.operationIds.has(operationId)) throw new Error(`${route}: operationId ${operationId} is already taken`);
    this.operationIds.add(operationId);
    const op: Record<string, unknown> = {
      operationId,
      summary: spec.summary,
      tags: spec.tags,
      responses: {
        [String(spec.status ?? 200)]: spec.response
          ? { description: 'OK', content: { 'application/json': { schema: jsonSchema(spec.response) } } }
          : { description: 'OK' },
        '400': { $ref: '#/components/responses/BadRequest' },
        ...(spec.auth
          ? {
              '401': { $ref: '#/components/responses/Unauthorized' },
              '403': { $ref: '#/components/responses/Forbidden' },
            }
          : {}),
        '503': { $ref: '#/components/responses/Unavailable' },
      },
    };
    // An empty list says "public" explicitly.
    op.security = spec.security ? SECURITY[spec.security].map((scheme) => ({ [scheme]: [] })) : [];
    if (spec.body)
      op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(spec.body) } } };
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['query', spec.query],
      ['path', spec.params],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
      }
    }
    if (parameters.length) op.parameters = parameters;
    (this.paths[oaPath] ??= {})[method] = op;
  }

  openapi(
    info: Record<string, unknown> & { title: string; version: string },
    servers: Array<{ url: string; description?: string }>,
  ): Record<string, unknown> {
    const err = {
      type: 'object',
      properties: {
        error: {
          type: 'object',
          properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object' } },
          required: ['code', 'message'],
        },
      },
    };
    const resp = (d: string) => ({ description: d, content: { 'application/json': { schema: err } } });
    return {
      openapi: '3.1.0',
      info,
      servers,
      paths: this.paths,
      components: {
        securitySchemes: SECURITY_SCHEMES,
        responses: {
          BadRequest: resp('invalid input; the message names the field'),
          Unauthorized: resp('missing or invalid credentials'),
          Forbidden: resp('not allowed'),
          Unavailable: resp('a dependency (database, store) is unavailable'),
        },
      },
    };
  }
}

function jsonSchema(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}

/** A 400 naming the first string (value or key) that holds NUL or an unpaired surrogate. */
export function assertStorable(value: unknown, where: string): void {
  const field = findUnstorable(value, where);
  if (field) throw new JmpError('bad_request', `${field}: ${UNSTORABLE_MESSAGE}`, { field });
}

/** Validates with zod; the 400 names the first bad field, e.g. "body.host: must be a DNS host name". */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = [where, ...issue.path.map(String)].join('.');
  throw new JmpError('bad_request', `${field}: ${issue.message}`, {
    field,
    issues: r.error.issues
      .slice(0, 10)
      .map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
  });
}
