// Who may do what: roles (owner / ops on a project or service, which carry the
// default rights) and explicit grants (login / root for a person or a whole
// department, on a host, service or project, for a period). A grant is never
// deleted: revoking stamps revoked_at so the history of access stays readable.
import { contract as c, JmpError } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { audit, badField, iso, isoNN, mapPage, readers, userIdOf, write } from './crud.js';
import { mustRef, type Kind } from './repository/common.js';
import * as repo from './repository/grants.js';

const ROLE_HINTS = {
  roles_user_id_scope_type_scope_id_role_unique: ['body.role', 'this user already has this role here'],
  roles_lead: ['body.opsLead', 'only an ops role can be the ops lead'],
} as Record<string, [string, string]>;
const GRANT_HINTS = { grants_period: ['body.validUntil', 'must be after validFrom'] } as Record<
  string,
  [string, string]
>;

const toRole = (r: repo.RoleRow) => ({
  id: r.id,
  userId: r.user_id,
  scopeType: r.scope_type,
  scopeId: r.scope_id,
  role: r.role,
  opsLead: r.ops_lead,
  createdAt: isoNN(r.created_at),
});

const toGrant = (r: repo.GrantRow, now: Date): c.AdminGrant => ({
  id: r.id,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  scopeType: r.scope_type,
  scopeId: r.scope_id,
  right: r.right,
  validFrom: isoNN(r.valid_from),
  validUntil: iso(r.valid_until),
  origin: r.origin,
  requestId: r.request_id,
  createdBy: r.created_by,
  revokedAt: iso(r.revoked_at),
  createdAt: isoNN(r.created_at),
  active:
    r.revoked_at == null && new Date(r.valid_from) <= now && (r.valid_until == null || new Date(r.valid_until) > now),
});

export const grantRoutes: RouteModule = (api, ctx, auth) => {
  // ---- roles ----
  let tags = ['admin: roles'];
  api.route(
    'get',
    '/v1/roles',
    { summary: 'List roles', tags, auth: readers(auth), security: 'admin', query: c.RoleQuery, response: c.RoleList },
    async ({ query }) => {
      return mapPage(await repo.listRoles(ctx.db, query), toRole);
    },
  );
  api.route(
    'post',
    '/v1/roles',
    {
      summary: 'Give a user a role (owner or ops) on a project or service',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.RoleCreate,
      response: c.AdminRole,
      status: 201,
    },
    async ({ body, principal }) =>
      write(ctx, ROLE_HINTS, async (trx) => {
        await mustRef(trx, 'user', body.userId, 'body.userId');
        await mustRef(trx, body.scopeType, body.scopeId, 'body.scopeId');
        const row = await repo.insertRole(trx, body);
        await audit(trx, principal, 'role.created', `role:${row.id}`, { ...body });
        return toRole(row);
      }),
  );
  api.route(
    'get',
    '/v1/roles/:id',
    { summary: 'Get a role', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminRole },
    async ({ params }) => toRole(await repo.getRole(ctx.db, params.id)),
  );
  api.route(
    'patch',
    '/v1/roles/:id',
    {
      summary: 'Change a role (owner/ops, ops lead)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.RoleUpdate,
      response: c.AdminRole,
    },
    async ({ params, body, principal }) =>
      write(ctx, ROLE_HINTS, async (trx) => {
        const cur = await repo.getRole(trx, params.id);
        const role = body.role ?? cur.role;
        // Becoming owner drops the lead flag unless the body insists on it (then it is an error).
        const opsLead = body.opsLead ?? (role === 'ops' ? cur.ops_lead : false);
        if (opsLead && role !== 'ops') throw badField('body.opsLead', 'only an ops role can be the ops lead');
        const row = await repo.updateRole(trx, params.id, { role, opsLead });
        await audit(trx, principal, 'role.updated', `role:${row.id}`, {
          userId: row.user_id,
          scopeType: row.scope_type,
          scopeId: row.scope_id,
          ...body,
        });
        return toRole(row);
      }),
  );
  api.route(
    'delete',
    '/v1/roles/:id',
    { summary: 'Remove a role', tags, auth: auth.admin(), security: 'admin', params: c.IdParams },
    async ({ params, principal }) => {
      await write(ctx, ROLE_HINTS, async (trx) => {
        const cur = await repo.getRole(trx, params.id);
        await repo.deleteRole(trx, params.id);
        await audit(trx, principal, 'role.deleted', `role:${cur.id}`, {
          userId: cur.user_id,
          scopeType: cur.scope_type,
          scopeId: cur.scope_id,
          role: cur.role,
        });
      });
    },
  );

  // ---- grants ----
  tags = ['admin: grants'];
  api.route(
    'get',
    '/v1/grants',
    {
      summary: 'List grants (filters: subject, scope, right, active)',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.GrantQuery,
      response: c.GrantList,
    },
    async ({ query }) => {
      const now = ctx.now();
      return mapPage(await repo.listGrants(ctx.db, query, now), (r) => toGrant(r, now));
    },
  );
  api.route(
    'post',
    '/v1/grants',
    {
      summary: 'Grant login or root to a person or department',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.GrantCreate,
      response: c.AdminGrant,
      status: 201,
    },
    async ({ body, principal }) => {
      const now = ctx.now();
      const validFrom = body.validFrom ? new Date(body.validFrom) : now;
      const validUntil = body.validUntil ? new Date(body.validUntil) : null;
      if (validUntil && validUntil <= validFrom) throw badField('body.validUntil', 'must be after validFrom');
      if (validUntil && validUntil <= now) throw badField('body.validUntil', 'is already in the past');
      return write(ctx, GRANT_HINTS, async (trx) => {
        await mustRef(trx, body.subjectType as Kind, body.subjectId, 'body.subjectId');
        await mustRef(trx, body.scopeType as Kind, body.scopeId, 'body.scopeId');
        const row = await repo.insertGrant(trx, { ...body, validFrom, validUntil, createdBy: userIdOf(principal) });
        await audit(trx, principal, 'grant.created', `grant:${row.id}`, { ...body });
        return toGrant(row, now);
      });
    },
  );
  api.route(
    'get',
    '/v1/grants/:id',
    {
      summary: 'Get a grant',
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.AdminGrant,
    },
    async ({ params }) => toGrant(await repo.getGrant(ctx.db, params.id), ctx.now()),
  );
  api.route(
    'patch',
    '/v1/grants/:id',
    {
      summary: 'Change the period of a grant that is not revoked',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.GrantUpdate,
      response: c.AdminGrant,
    },
    async ({ params, body, principal }) =>
      write(ctx, GRANT_HINTS, async (trx) => {
        const cur = await repo.getGrant(trx, params.id);
        if (cur.revoked_at) throw new JmpError('conflict', `grant ${cur.id} was revoked; create a new grant instead`);
        const validFrom = body.validFrom !== undefined ? new Date(body.validFrom) : new Date(cur.valid_from);
        const validUntil =
          body.validUntil !== undefined
            ? body.validUntil
              ? new Date(body.validUntil)
              : null
            : cur.valid_until
              ? new Date(cur.valid_until)
              : null;
        if (validUntil && validUntil <= validFrom) throw badField('body.validUntil', 'must be after validFrom');
        const row = await repo.setGrantPeriod(trx, params.id, validFrom, validUntil);
        await audit(trx, principal, 'grant.updated', `grant:${row.id}`, { ...body });
        return toGrant(row, ctx.now());
      }),
  );
  api.route(
    'delete',
    '/v1/grants/:id',
    {
      summary: 'Revoke a grant (the row stays, with revokedAt)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, GRANT_HINTS, async (trx) => {
        const cur = await repo.getGrant(trx, params.id);
        if (cur.revoked_at) return; // already revoked: nothing changes, nothing to audit
        await repo.revokeGrant(trx, params.id);
        await audit(trx, principal, 'grant.revoked', `grant:${cur.id}`, {
          subjectType: cur.subject_type,
          subjectId: cur.subject_id,
          scopeType: cur.scope_type,
          scopeId: cur.scope_id,
          right: cur.right,
        });
      });
    },
  );
};
