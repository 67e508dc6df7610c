// Who may do what: roles (owner / ops on a project or service, which carry the
// default rights) and explicit grants (login / root for a person or a whole
// department, on a host, service or project, for a period). A grant is never
// deleted: revoking stamps revoked_at so the history of access stays readable.
import { contract as c, JmpError } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { audit, badField, iso, isoNN, mustGet, mustRef, paged, readers, userIdOf, write, type Kind } from './crud.js';

const ROLE_HINTS = {
  roles_user_id_scope_type_scope_id_role_unique: ['body.role', 'this user already has this role here'],
  roles_lead: ['body.opsLead', 'only an ops role can be the ops lead'],
} as Record<string, [string, string]>;
const GRANT_HINTS = { grants_period: ['body.validUntil', 'must be after validFrom'] } as Record<string, [string, string]>;

const toRole = (r: any) => ({ id: r.id, userId: r.user_id, scopeType: r.scope_type, scopeId: r.scope_id, role: r.role, opsLead: r.ops_lead, createdAt: isoNN(r.created_at) });

const toGrant = (r: any, now: Date): c.AdminGrant => ({
  id: r.id, subjectType: r.subject_type, subjectId: r.subject_id, scopeType: r.scope_type, scopeId: r.scope_id, right: r.right,
  validFrom: isoNN(r.valid_from), validUntil: iso(r.valid_until), origin: r.origin, requestId: r.request_id, createdBy: r.created_by,
  revokedAt: iso(r.revoked_at), createdAt: isoNN(r.created_at),
  active: r.revoked_at == null && new Date(r.valid_from) <= now && (r.valid_until == null || new Date(r.valid_until) > now),
});

export const grantRoutes: RouteModule = (api, ctx, auth) => {
  // ---- roles ----
  let tags = ['admin: roles'];
  api.route('get', '/v1/roles', { summary: 'List roles', tags, auth: readers(auth), security: 'admin', query: c.RoleQuery, response: c.RoleList }, async ({ query }) => {
    const qb = ctx.db('roles').select('*');
    if (query.userId) qb.where({ user_id: query.userId });
    if (query.scopeType) qb.where({ scope_type: query.scopeType });
    if (query.scopeId) qb.where({ scope_id: query.scopeId });
    if (query.role) qb.where({ role: query.role });
    return paged(qb, query, 'id', toRole);
  });
  api.route('post', '/v1/roles', { summary: 'Give a user a role (owner or ops) on a project or service', tags, auth: auth.admin(), security: 'admin', body: c.RoleCreate, response: c.AdminRole, status: 201 }, async ({ body, principal }) =>
    write(ctx, ROLE_HINTS, async (trx) => {
      await mustRef(trx, 'user', body.userId, 'body.userId');
      await mustRef(trx, body.scopeType, body.scopeId, 'body.scopeId');
      const [row] = await trx('roles').insert({ user_id: body.userId, scope_type: body.scopeType, scope_id: body.scopeId, role: body.role, ops_lead: body.opsLead }).returning('*');
      await audit(trx, principal, 'role.created', `role:${row.id}`, { ...body });
      return toRole(row);
    }));
  api.route('get', '/v1/roles/:id', { summary: 'Get a role', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminRole }, async ({ params }) =>
    toRole(await mustGet(ctx.db, 'roles', params.id, 'role')));
  api.route('patch', '/v1/roles/:id', { summary: 'Change a role (owner/ops, ops lead)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.RoleUpdate, response: c.AdminRole }, async ({ params, body, principal }) =>
    write(ctx, ROLE_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'roles', params.id, 'role');
      const role = body.role ?? cur.role;
      // Becoming owner drops the lead flag unless the body insists on it (then it is an error).
      const opsLead = body.opsLead ?? (role === 'ops' ? cur.ops_lead : false);
      if (opsLead && role !== 'ops') throw badField('body.opsLead', 'only an ops role can be the ops lead');
      const [row] = await trx('roles').where({ id: params.id }).update({ role, ops_lead: opsLead }).returning('*');
      await audit(trx, principal, 'role.updated', `role:${row.id}`, { userId: row.user_id, scopeType: row.scope_type, scopeId: row.scope_id, ...body });
      return toRole(row);
    }));
  api.route('delete', '/v1/roles/:id', { summary: 'Remove a role', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, ROLE_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'roles', params.id, 'role');
      await trx('roles').where({ id: params.id }).delete();
      await audit(trx, principal, 'role.deleted', `role:${cur.id}`, { userId: cur.user_id, scopeType: cur.scope_type, scopeId: cur.scope_id, role: cur.role });
    });
  });

  // ---- grants ----
  tags = ['admin: grants'];
  api.route('get', '/v1/grants', { summary: 'List grants (filters: subject, scope, right, active)', tags, auth: readers(auth), security: 'admin', query: c.GrantQuery, response: c.GrantList }, async ({ query }) => {
    const now = ctx.now();
    const qb = ctx.db('grants').select('*');
    if (query.subjectType) qb.where({ subject_type: query.subjectType });
    if (query.subjectId) qb.where({ subject_id: query.subjectId });
    if (query.scopeType) qb.where({ scope_type: query.scopeType });
    if (query.scopeId) qb.where({ scope_id: query.scopeId });
    if (query.right) qb.where({ right: query.right });
    if (query.active !== undefined) {
      const inForce = (w: any) => w.whereNull('revoked_at').where('valid_from', '<=', now).where((v: any) => v.whereNull('valid_until').orWhere('valid_until', '>', now));
      if (query.active) qb.where(inForce);
      else qb.whereNot(inForce);
    }
    return paged(qb, query, 'id', (r) => toGrant(r, now));
  });
  api.route('post', '/v1/grants', { summary: 'Grant login or root to a person or department', tags, auth: auth.admin(), security: 'admin', body: c.GrantCreate, response: c.AdminGrant, status: 201 }, async ({ body, principal }) => {
    const now = ctx.now();
    const validFrom = body.validFrom ? new Date(body.validFrom) : now;
    const validUntil = body.validUntil ? new Date(body.validUntil) : null;
    if (validUntil && validUntil <= validFrom) throw badField('body.validUntil', 'must be after validFrom');
    if (validUntil && validUntil <= now) throw badField('body.validUntil', 'is already in the past');
    return write(ctx, GRANT_HINTS, async (trx) => {
      await mustRef(trx, body.subjectType as Kind, body.subjectId, 'body.subjectId');
      await mustRef(trx, body.scopeType as Kind, body.scopeId, 'body.scopeId');
      const [row] = await trx('grants').insert({
        subject_type: body.subjectType, subject_id: body.subjectId, scope_type: body.scopeType, scope_id: body.scopeId, right: body.right,
        valid_from: validFrom, valid_until: validUntil, origin: 'admin', created_by: userIdOf(principal),
      }).returning('*');
      await audit(trx, principal, 'grant.created', `grant:${row.id}`, { ...body });
      return toGrant(row, now);
    });
  });
  api.route('get', '/v1/grants/:id', { summary: 'Get a grant', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.AdminGrant }, async ({ params }) =>
    toGrant(await mustGet(ctx.db, 'grants', params.id, 'grant'), ctx.now()));
  api.route('patch', '/v1/grants/:id', { summary: 'Change the period of a grant that is not revoked', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.GrantUpdate, response: c.AdminGrant }, async ({ params, body, principal }) =>
    write(ctx, GRANT_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'grants', params.id, 'grant');
      if (cur.revoked_at) throw new JmpError('conflict', `grant ${cur.id} was revoked; create a new grant instead`);
      const validFrom = body.validFrom !== undefined ? new Date(body.validFrom) : new Date(cur.valid_from);
      const validUntil = body.validUntil !== undefined ? (body.validUntil ? new Date(body.validUntil) : null) : (cur.valid_until ? new Date(cur.valid_until) : null);
      if (validUntil && validUntil <= validFrom) throw badField('body.validUntil', 'must be after validFrom');
      const [row] = await trx('grants').where({ id: params.id }).update({ valid_from: validFrom, valid_until: validUntil }).returning('*');
      await audit(trx, principal, 'grant.updated', `grant:${row.id}`, { ...body });
      return toGrant(row, ctx.now());
    }));
  api.route('delete', '/v1/grants/:id', { summary: 'Revoke a grant (the row stays, with revokedAt)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, GRANT_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'grants', params.id, 'grant');
      if (cur.revoked_at) return; // already revoked: nothing changes, nothing to audit
      await trx('grants').where({ id: params.id }).update({ revoked_at: trx.fn.now() });
      await audit(trx, principal, 'grant.revoked', `grant:${cur.id}`, { subjectType: cur.subject_type, subjectId: cur.subject_id, scopeType: cur.scope_type, scopeId: cur.scope_id, right: cur.right });
    });
  });
};
