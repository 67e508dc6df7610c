// The organisation: departments (a tree), projects, and the services inside them.
import { contract as c, JmpError } from '@jmp/common';
import type { RouteModule } from '../http/app.js';
import { audit, badField, isoNN, mustGet, mustRef, paged, readers, substring, write, type Tx } from './crud.js';

const DEPT_TREE_LOCK = 0x6a6d7002; // serialises tree edits so two moves cannot make a cycle together

const DEPT_HINTS = {
  departments_name_unique: ['body.name', 'a department with this name already exists'],
  departments_parent_id_foreign: ['path.id', 'this department still has sub-departments; move or delete them first'],
} as Record<string, [string, string]>;
const PROJECT_HINTS = {
  projects_name_unique: ['body.name', 'a project with this name already exists'],
  services_project_id_foreign: ['path.id', 'this project still has services; move or delete them first'],
} as Record<string, [string, string]>;
const SERVICE_HINTS = {
  services_project_id_name_unique: ['body.name', 'this project already has a service with this name'],
  hosts_service_id_foreign: ['path.id', 'this service still has hosts; move or delete them first'],
} as Record<string, [string, string]>;

const toDept = (r: any) => ({ id: r.id, name: r.name, parentId: r.parent_id, leaderId: r.leader_id, createdAt: isoNN(r.created_at) });
const toProject = (r: any) => ({ id: r.id, name: r.name, description: r.description, createdAt: isoNN(r.created_at) });
const toService = (r: any) => ({ id: r.id, projectId: r.project_id, name: r.name, description: r.description, hopTickets: r.hop_tickets, createdAt: isoNN(r.created_at) });

/** 400 when making `parentId` the parent of `id` would close a loop in the tree. */
async function refuseCycle(trx: Tx, id: number, parentId: number): Promise<void> {
  if (parentId === id) throw badField('body.parentId', 'a department cannot be its own parent');
  const { rows } = await trx.raw(
    `WITH RECURSIVE up(id, parent_id) AS (
       SELECT id, parent_id FROM departments WHERE id = ?
       UNION SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id)
     SELECT 1 FROM up WHERE id = ? LIMIT 1`, [parentId, id]);
  if (rows.length > 0) throw badField('body.parentId', `department ${parentId} is inside department ${id}; the tree would become a cycle`);
}

/**
 * Scoped things without a foreign key (roles, grants, request policies, rules)
 * are cleaned up with the project/service/host they point at: roles and
 * policies are deleted, grants revoked (kept for history). Command rules are a
 * security control, so they are never dropped silently: the delete is refused.
 */
export async function releaseScope(trx: Tx, scopeType: 'project' | 'service' | 'host', scopeId: number): Promise<void> {
  if (scopeType !== 'host') {
    const rules = await trx('command_rules').where({ scope_type: scopeType, scope_id: scopeId }).count<{ n: string }[]>({ n: '*' });
    const n = Number(rules[0]!.n);
    if (n > 0) throw new JmpError('conflict', `${n} command rule(s) are scoped to this ${scopeType}; delete or rescope them first`);
    await trx('roles').where({ scope_type: scopeType, scope_id: scopeId }).delete();
  }
  await trx('request_policies').where({ scope_type: scopeType, scope_id: scopeId }).delete();
  await trx('grants').where({ scope_type: scopeType, scope_id: scopeId }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
}

export const orgRoutes: RouteModule = (api, ctx, auth) => {
  // ---- departments ----
  let tags = ['admin: departments'];
  api.route('get', '/v1/departments', { summary: 'List departments', tags, auth: readers(auth), security: 'admin', query: c.DepartmentQuery, response: c.DepartmentList }, async ({ query }) => {
    const qb = ctx.db('departments').select('*');
    substring(qb, ['name'], query.q);
    if (query.parentId) qb.where({ parent_id: query.parentId });
    return paged(qb, query, 'id', toDept);
  });
  api.route('post', '/v1/departments', { summary: 'Create a department', tags, auth: auth.admin(), security: 'admin', body: c.DepartmentCreate, response: c.Department, status: 201 }, async ({ body, principal }) =>
    write(ctx, DEPT_HINTS, async (trx) => {
      await mustRef(trx, 'department', body.parentId, 'body.parentId');
      await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
      const [row] = await trx('departments').insert({ name: body.name, parent_id: body.parentId ?? null, leader_id: body.leaderId ?? null }).returning('*');
      await audit(trx, principal, 'department.created', `department:${row.name}`, { id: row.id, ...body });
      return toDept(row);
    }));
  api.route('get', '/v1/departments/:id', { summary: 'Get a department', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.Department }, async ({ params }) =>
    toDept(await mustGet(ctx.db, 'departments', params.id, 'department')));
  api.route('patch', '/v1/departments/:id', { summary: 'Update a department (moves that make a cycle are refused)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.DepartmentUpdate, response: c.Department }, async ({ params, body, principal }) =>
    write(ctx, DEPT_HINTS, async (trx) => {
      await trx.raw('SELECT pg_advisory_xact_lock(?)', [DEPT_TREE_LOCK]);
      const cur = await mustGet(trx, 'departments', params.id, 'department');
      await mustRef(trx, 'department', body.parentId, 'body.parentId');
      await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
      if (body.parentId != null) await refuseCycle(trx, params.id, body.parentId);
      const patch: Record<string, unknown> = {};
      if (body.name !== undefined) patch.name = body.name;
      if (body.parentId !== undefined) patch.parent_id = body.parentId;
      if (body.leaderId !== undefined) patch.leader_id = body.leaderId;
      if (Object.keys(patch).length === 0) return toDept(cur);
      const [row] = await trx('departments').where({ id: params.id }).update(patch).returning('*');
      await audit(trx, principal, 'department.updated', `department:${row.name}`, { id: row.id, ...body });
      return toDept(row);
    }));
  api.route('delete', '/v1/departments/:id', { summary: 'Delete a department (members keep their accounts; its grants are revoked)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, DEPT_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'departments', params.id, 'department');
      await trx('grants').where({ subject_type: 'department', subject_id: params.id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
      await trx('departments').where({ id: params.id }).delete();
      await audit(trx, principal, 'department.deleted', `department:${cur.name}`, { id: cur.id });
    });
  });

  // ---- projects ----
  tags = ['admin: projects'];
  api.route('get', '/v1/projects', { summary: 'List projects', tags, auth: readers(auth), security: 'admin', query: c.ProjectQuery, response: c.ProjectList }, async ({ query }) => {
    const qb = ctx.db('projects').select('*');
    substring(qb, ['name', 'description'], query.q);
    return paged(qb, query, 'id', toProject);
  });
  api.route('post', '/v1/projects', { summary: 'Create a project', tags, auth: auth.admin(), security: 'admin', body: c.ProjectCreate, response: c.Project, status: 201 }, async ({ body, principal }) =>
    write(ctx, PROJECT_HINTS, async (trx) => {
      const [row] = await trx('projects').insert({ name: body.name, description: body.description }).returning('*');
      await audit(trx, principal, 'project.created', `project:${row.name}`, { id: row.id, ...body });
      return toProject(row);
    }));
  api.route('get', '/v1/projects/:id', { summary: 'Get a project', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.Project }, async ({ params }) =>
    toProject(await mustGet(ctx.db, 'projects', params.id, 'project')));
  api.route('patch', '/v1/projects/:id', { summary: 'Update a project', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.ProjectUpdate, response: c.Project }, async ({ params, body, principal }) =>
    write(ctx, PROJECT_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'projects', params.id, 'project');
      if (Object.keys(body).length === 0) return toProject(cur);
      const [row] = await trx('projects').where({ id: params.id }).update({ ...body }).returning('*');
      await audit(trx, principal, 'project.updated', `project:${row.name}`, { id: row.id, ...body });
      return toProject(row);
    }));
  api.route('delete', '/v1/projects/:id', { summary: 'Delete an empty project (its roles go, its grants are revoked)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, PROJECT_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'projects', params.id, 'project');
      await releaseScope(trx, 'project', params.id);
      await trx('projects').where({ id: params.id }).delete();
      await audit(trx, principal, 'project.deleted', `project:${cur.name}`, { id: cur.id });
    });
  });

  // ---- services ----
  tags = ['admin: services'];
  api.route('get', '/v1/services', { summary: 'List services', tags, auth: readers(auth), security: 'admin', query: c.ServiceQuery, response: c.ServiceList }, async ({ query }) => {
    const qb = ctx.db('services').select('*');
    substring(qb, ['name', 'description'], query.q);
    if (query.projectId) qb.where({ project_id: query.projectId });
    return paged(qb, query, 'id', toService);
  });
  api.route('post', '/v1/services', { summary: 'Create a service in a project', tags, auth: auth.admin(), security: 'admin', body: c.ServiceCreate, response: c.Service, status: 201 }, async ({ body, principal }) =>
    write(ctx, SERVICE_HINTS, async (trx) => {
      await mustRef(trx, 'project', body.projectId, 'body.projectId');
      const [row] = await trx('services').insert({ project_id: body.projectId, name: body.name, description: body.description, hop_tickets: body.hopTickets }).returning('*');
      await audit(trx, principal, 'service.created', `service:${row.name}`, { id: row.id, ...body });
      return toService(row);
    }));
  api.route('get', '/v1/services/:id', { summary: 'Get a service', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.Service }, async ({ params }) =>
    toService(await mustGet(ctx.db, 'services', params.id, 'service')));
  api.route('patch', '/v1/services/:id', { summary: 'Update a service (may move it to another project)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams, body: c.ServiceUpdate, response: c.Service }, async ({ params, body, principal }) =>
    write(ctx, SERVICE_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'services', params.id, 'service');
      await mustRef(trx, 'project', body.projectId, 'body.projectId');
      const patch: Record<string, unknown> = {};
      if (body.projectId !== undefined) patch.project_id = body.projectId;
      if (body.name !== undefined) patch.name = body.name;
      if (body.description !== undefined) patch.description = body.description;
      if (body.hopTickets !== undefined) patch.hop_tickets = body.hopTickets;
      if (Object.keys(patch).length === 0) return toService(cur);
      const [row] = await trx('services').where({ id: params.id }).update(patch).returning('*');
      await audit(trx, principal, 'service.updated', `service:${row.name}`, { id: row.id, ...body });
      return toService(row);
    }));
  api.route('delete', '/v1/services/:id', { summary: 'Delete a service without hosts (its roles go, its grants are revoked)', tags, auth: auth.admin(), security: 'admin', params: c.IdParams }, async ({ params, principal }) => {
    await write(ctx, SERVICE_HINTS, async (trx) => {
      const cur = await mustGet(trx, 'services', params.id, 'service');
      await releaseScope(trx, 'service', params.id);
      await trx('services').where({ id: params.id }).delete();
      await audit(trx, principal, 'service.deleted', `service:${cur.name}`, { id: cur.id });
    });
  });
};
