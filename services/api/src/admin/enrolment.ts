// Enrolment tokens let `jmp-agent enroll --token T` register a host. The token
// is shown once, at creation; only its sha256 (hex, of the whole "jmpe_..."
// string) is stored, so a database dump cannot enrol hosts. Tokens cannot be
// edited: revoke one and create another.
import { randomBytes } from 'node:crypto';
import { JmpError, contract as c } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { sha256hex } from '../crypto/secrets.js';
import { ENROLLABLE_KINDS } from '../agents/enrol.js';
import { audit, badField, iso, isoNN, mapPage, readers, userIdOf, write, type Tx } from './crud.js';
import { mustRef } from './repository/common.js';
import * as repo from './repository/enrolment.js';

export const newEnrolmentToken = (): string => c.ENROLMENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
export const enrolmentTokenHash = (token: string): string => sha256hex(token);

const toToken = (r: repo.EnrolmentTokenRow, now: Date): c.EnrolmentToken => ({
  id: r.id,
  description: r.description,
  serviceId: r.service_id,
  hostState: r.host_state,
  maxUses: r.max_uses,
  uses: r.uses,
  expiresAt: isoNN(r.expires_at),
  createdBy: r.created_by,
  revokedAt: iso(r.revoked_at),
  createdAt: isoNN(r.created_at),
  active: r.revoked_at == null && r.uses < r.max_uses && new Date(r.expires_at) > now,
});

export const enrolmentRoutes: RouteModule = (api, ctx, auth) => {
  const tags = ['admin: enrolment tokens'];

  api.route(
    'get',
    '/v1/enrolment-tokens',
    {
      summary: 'List enrolment tokens (never the tokens themselves)',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.EnrolmentTokenQuery,
      response: c.EnrolmentTokenList,
    },
    async ({ query }) => {
      const now = ctx.now();
      return mapPage(await repo.listTokens(ctx.db, query, now), (r) => toToken(r, now));
    },
  );

  api.route(
    'post',
    '/v1/enrolment-tokens',
    {
      summary: 'Create an enrolment token; the token is returned this once',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.EnrolmentTokenCreate,
      response: c.EnrolmentTokenCreated,
      status: 201,
    },
    async ({ body, principal, res }) => {
      const now = ctx.now();
      const token = newEnrolmentToken();
      const out = await write(ctx, {}, async (trx) => {
        await mustRef(trx, 'service', body.serviceId, 'body.serviceId');
        const row = await repo.insertToken(trx, {
          tokenHash: enrolmentTokenHash(token),
          description: body.description,
          serviceId: body.serviceId ?? null,
          hostState: body.hostState,
          maxUses: body.maxUses,
          expiresAt: new Date(now.getTime() + body.ttlSeconds * 1000),
          createdBy: userIdOf(principal),
        });
        await audit(trx, principal, 'enrolment_token.created', `enrolment_token:${row.id}`, {
          ...body,
          expiresAt: isoNN(row.expires_at),
        });
        return { ...toToken(row, now), token };
      });
      res.setHeader('cache-control', 'no-store');
      return out;
    },
  );

  api.route(
    'get',
    '/v1/enrolment-tokens/:id',
    {
      summary: 'Get an enrolment token (without the token)',
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.EnrolmentToken,
    },
    async ({ params }) => toToken(await repo.getToken(ctx.db, params.id), ctx.now()),
  );

  api.route(
    'delete',
    '/v1/enrolment-tokens/:id',
    {
      summary: 'Revoke an enrolment token (the row stays, with revokedAt)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, {}, async (trx) => {
        const cur = await repo.getToken(trx, params.id);
        if (cur.revoked_at) return;
        await repo.revokeToken(trx, params.id);
        await audit(trx, principal, 'enrolment_token.revoked', `enrolment_token:${cur.id}`, {
          description: cur.description,
          uses: cur.uses,
        });
      });
    },
  );
};

/**
 * Checks that an administrator may bind enrolment token `tokenId` to a host
 * (docs/decisions.md, "Enrolment cannot take over a host"): the token exists,
 * is usable and belongs to the host's service; the host runs jmp-agent and is
 * not enrolled. Refusals name body.enrolmentTokenId.
 */
export async function checkEnrolmentBinding(
  trx: Tx,
  tokenId: number,
  host: { service_id: number | null; kind: string; agent_public_key: string | null },
  now: Date,
): Promise<void> {
  const field = 'body.enrolmentTokenId';
  const t = await repo.findToken(trx, tokenId);
  if (!t) throw new JmpError('not_found', `${field}: there is no enrolment token with id ${tokenId}`, { field });
  if (!toToken(t, now).active) throw badField(field, `enrolment token ${tokenId} is revoked, expired or used up`);
  if (t.service_id !== host.service_id) {
    throw badField(
      field,
      `enrolment token ${tokenId} enrols into another service than the host's; bind a token of the host's service`,
    );
  }
  if (!ENROLLABLE_KINDS.includes(host.kind))
    throw badField(field, `a ${host.kind} host does not run jmp-agent and cannot be enrolled`);
  if (host.agent_public_key) {
    throw new JmpError(
      'conflict',
      `${field}: the host is enrolled; reset its enrolment (POST /v1/hosts/:id/reset-enrolment) to bind a token`,
      { field },
    );
  }
}
