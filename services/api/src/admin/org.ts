// The organisation: departments (a tree), projects, and the services inside them.
import { contract as c } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { audit, badField, isoNN, mapPage, readers, write, type Tx } from './crud.js';
import { mustRef } from './repository/common.js';
import * as repo from './repository/org.js';
import { revokeGrantsOf } from './repository/grants.js';

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

const toDept = (r: repo.DepartmentRow) => ({
  id: r.id,
  name: r.name,
  parentId: r.parent_id,
  leaderId: r.leader_id,
  createdAt: isoNN(r.created_at),
});
const toProject = (r: repo.ProjectRow) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  createdAt: isoNN(r.created_at),
});
const toService = (r: repo.ServiceRow) => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  description: r.description,
  hopTickets: r.hop_tickets,
  createdAt: isoNN(r.created_at),
});

/** 400 when making `parentId` the parent of `id` would close a loop in the tree. */
async function refuseCycle(trx: Tx, id: number, parentId: number): Promise<void> {
  if (parentId === id) throw badField('body.parentId', 'a department cannot be its own parent');
  if (await repo.isAncestorOrSelf(trx, id, parentId))
    throw badField('body.parentId', `department ${parentId} is inside department ${id}; the tree would become a cycle`);
}

export const orgRoutes: RouteModule = (api, ctx, auth) => {
  // ---- departments ----
  let tags = ['admin: departments'];
  api.route(
    'get',
    '/v1/departments',
    {
      summary: 'List departments',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.DepartmentQuery,
      response: c.DepartmentList,
    },
    async ({ query }) => {
      return mapPage(await repo.listDepartments(ctx.db, query), toDept);
    },
  );
  api.route(
    'post',
    '/v1/departments',
    {
      summary: 'Create a department',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.DepartmentCreate,
      response: c.Department,
      status: 201,
    },
    async ({ body, principal }) =>
      write(ctx, DEPT_HINTS, async (trx) => {
        await mustRef(trx, 'department', body.parentId, 'body.parentId');
        await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
        const row = await repo.insertDepartment(trx, {
          name: body.name,
          parentId: body.parentId ?? null,
          leaderId: body.leaderId ?? null,
        });
        await audit(trx, principal, 'department.created', `department:${row.name}`, { id: row.id, ...body });
        return toDept(row);
      }),
  );
  api.route(
    'get',
    '/v1/departments/:id',
    {
      summary: 'Get a department',
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.Department,
    },
    async ({ params }) => toDept(await repo.getDepartment(ctx.db, params.id)),
  );
  api.route(
    'patch',
    '/v1/departments/:id',
    {
      summary: 'Update a department (moves that make a cycle are refused)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.DepartmentUpdate,
      response: c.Department,
    },
    async ({ params, body, principal }) =>
      write(ctx, DEPT_HINTS, async (trx) => {
        await repo.lockDepartmentTree(trx);
        const cur = await repo.getDepartment(trx, params.id);
        await mustRef(trx, 'department', body.parentId, 'body.parentId');
        await mustRef(trx, 'user', body.leaderId, 'body.leaderId');
        if (body.parentId != null) await refuseCycle(trx, params.id, body.parentId);
        const row = await repo.updateDepartment(trx, params.id, body);
        if (!row) return toDept(cur);
        await audit(trx, principal, 'department.updated', `department:${row.name}`, { id: row.id, ...body });
        return toDept(row);
      }),
  );
  api.route(
    'delete',
    '/v1/departments/:id',
    {
      summary: 'Delete a department (members keep their accounts; its grants are revoked)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, DEPT_HINTS, async (trx) => {
        const cur = await repo.getDepartment(trx, params.id);
        await revokeGrantsOf(trx, 'department', params.id);
        await repo.deleteDepartment(trx, params.id);
        await audit(trx, principal, 'department.deleted', `department:${cur.name}`, { id: cur.id });
      });
    },
  );

  // ---- projects ----
  tags = ['admin: projects'];
  api.route(
    'get',
    '/v1/projects',
    {
      summary: 'List projects',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.ProjectQuery,
      response: c.ProjectList,
    },
    async ({ query }) => {
      return mapPage(await repo.listProjects(ctx.db, query), toProject);
    },
  );
  api.route(
    'post',
    '/v1/projects',
    {
      summary: 'Create a project',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.ProjectCreate,
      response: c.Project,
      status: 201,
    },
    async ({ body, principal }) =>
      write(ctx, PROJECT_HINTS, async (trx) => {
        const row = await repo.insertProject(trx, body);
        await audit(trx, principal, 'project.created', `project:${row.name}`, { id: row.id, ...body });
        return toProject(row);
      }),
  );
  api.route(
    'get',
    '/v1/projects/:id',
    { summary: 'Get a project', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.Project },
    async ({ params }) => toProject(await repo.getProject(ctx.db, params.id)),
  );
  api.route(
    'patch',
    '/v1/projects/:id',
    {
      summary: 'Update a project',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.ProjectUpdate,
      response: c.Project,
    },
    async ({ params, body, principal }) =>
      write(ctx, PROJECT_HINTS, async (trx) => {
        const cur = await repo.getProject(trx, params.id);
        const row = await repo.updateProject(trx, params.id, body);
        if (!row) return toProject(cur);
        await audit(trx, principal, 'project.updated', `project:${row.name}`, { id: row.id, ...body });
        return toProject(row);
      }),
  );
  api.route(
    'delete',
    '/v1/projects/:id',
    {
      summary: 'Delete an empty project (its roles go, its grants are revoked)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, PROJECT_HINTS, async (trx) => {
        const cur = await repo.getProject(trx, params.id);
        await repo.releaseScope(trx, 'project', params.id);
        await repo.deleteProject(trx, params.id);
        await audit(trx, principal, 'project.deleted', `project:${cur.name}`, { id: cur.id });
      });
    },
  );

  // ---- services ----
  tags = ['admin: services'];
  api.route(
    'get',
    '/v1/services',
    {
      summary: 'List services',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.ServiceQuery,
      response: c.ServiceList,
    },
    async ({ query }) => {
      return mapPage(await repo.listServices(ctx.db, query), toService);
    },
  );
  api.route(
    'post',
    '/v1/services',
    {
      summary: 'Create a service in a project',
      tags,
      auth: auth.admin(),
      security: 'admin',
      body: c.ServiceCreate,
      response: c.Service,
      status: 201,
    },
    async ({ body, principal }) =>
      write(ctx, SERVICE_HINTS, async (trx) => {
        await mustRef(trx, 'project', body.projectId, 'body.projectId');
        const row = await repo.insertService(trx, body);
        await audit(trx, principal, 'service.created', `service:${row.name}`, { id: row.id, ...body });
        return toService(row);
      }),
  );
  api.route(
    'get',
    '/v1/services/:id',
    { summary: 'Get a service', tags, auth: readers(auth), security: 'admin', params: c.IdParams, response: c.Service },
    async ({ params }) => toService(await repo.getService(ctx.db, params.id)),
  );
  api.route(
    'patch',
    '/v1/services/:id',
    {
      summary: 'Update a service (may move it to another project)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
      body: c.ServiceUpdate,
      response: c.Service,
    },
    async ({ params, body, principal }) =>
      write(ctx, SERVICE_HINTS, async (trx) => {
        const cur = await repo.getService(trx, params.id);
        await mustRef(trx, 'project', body.projectId, 'body.projectId');
        const row = await repo.updateService(trx, params.id, body);
        if (!row) return toService(cur);
        await audit(trx, principal, 'service.updated', `service:${row.name}`, { id: row.id, ...body });
        return toService(row);
      }),
  );
  api.route(
    'delete',
    '/v1/services/:id',
    {
      summary: 'Delete a service without hosts (its roles go, its grants are revoked)',
      tags,
      auth: auth.admin(),
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, SERVICE_HINTS, async (trx) => {
        const cur = await repo.getService(trx, params.id);
        await repo.releaseScope(trx, 'service', params.id);
        await repo.deleteService(trx, params.id);
        await audit(trx, principal, 'service.deleted', `service:${cur.name}`, { id: cur.id });
      });
    },
  );
};
