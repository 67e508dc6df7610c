// Knex queries for the organisation: departments (a tree), projects and the
// services inside them, and the clean-up of what is scoped to a deleted one.
import { JmpError } from '@jmp/contract';
import { definedOnly, mustGet, paged, substring, type Page, type Paged, type Tx } from './common.js';

/** Serialises tree edits so two moves cannot make a cycle together. */
const DEPT_TREE_LOCK = 0x6a6d7002;

export interface DepartmentRow {
  id: number;
  name: string;
  parent_id: number | null;
  leader_id: number | null;
  created_at: Date;
}
export interface ProjectRow {
  id: number;
  name: string;
  description: string;
  created_at: Date;
}
export interface ServiceRow {
  id: number;
  project_id: number;
  name: string;
  description: string;
  hop_tickets: boolean;
  created_at: Date;
}

// ---- departments ----

export async function listDepartments(
  db: Tx,
  f: Page & { q?: string | undefined; parentId?: number | undefined },
): Promise<Paged<DepartmentRow>> {
  const qb = db('departments').select('*');
  substring(qb, ['name'], f.q);
  if (f.parentId) qb.where({ parent_id: f.parentId });
  return paged(qb, f, 'id');
}

export const getDepartment = (db: Tx, id: number): Promise<DepartmentRow> =>
  mustGet<DepartmentRow>(db, 'departments', id, 'department');

export async function insertDepartment(
  db: Tx,
  d: { name: string; parentId: number | null; leaderId: number | null },
): Promise<DepartmentRow> {
  const [row] = await db('departments')
    .insert({ name: d.name, parent_id: d.parentId, leader_id: d.leaderId })
    .returning('*');
  return row as DepartmentRow;
}

/** Holds the department tree until the transaction ends. */
export async function lockDepartmentTree(trx: Tx): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(?)', [DEPT_TREE_LOCK]);
}

/** True when department `id` is `parentId` or one of its ancestors. */
export async function isAncestorOrSelf(db: Tx, id: number, parentId: number): Promise<boolean> {
  const { rows } = await db.raw(
    `WITH RECURSIVE up(id, parent_id) AS (
       SELECT id, parent_id FROM departments WHERE id = ?
       UNION SELECT d.id, d.parent_id FROM departments d JOIN up ON d.id = up.parent_id)
     SELECT 1 FROM up WHERE id = ? LIMIT 1`,
    [parentId, id],
  );
  return rows.length > 0;
}

export interface DepartmentChanges {
  name?: string | undefined;
  parentId?: number | null | undefined;
  leaderId?: number | null | undefined;
}

/** Applies the given changes; undefined when there is nothing to change. */
export async function updateDepartment(db: Tx, id: number, c: DepartmentChanges): Promise<DepartmentRow | undefined> {
  const patch = definedOnly({ name: c.name, parent_id: c.parentId, leader_id: c.leaderId });
  if (Object.keys(patch).length === 0) return undefined;
  const [row] = await db('departments').where({ id }).update(patch).returning('*');
  return row as DepartmentRow;
}

export async function deleteDepartment(db: Tx, id: number): Promise<void> {
  await db('departments').where({ id }).delete();
}

// ---- projects ----

export async function listProjects(db: Tx, f: Page & { q?: string | undefined }): Promise<Paged<ProjectRow>> {
  const qb = db('projects').select('*');
  substring(qb, ['name', 'description'], f.q);
  return paged(qb, f, 'id');
}

export const getProject = (db: Tx, id: number): Promise<ProjectRow> =>
  mustGet<ProjectRow>(db, 'projects', id, 'project');

export async function insertProject(db: Tx, p: { name: string; description: string }): Promise<ProjectRow> {
  const [row] = await db('projects').insert({ name: p.name, description: p.description }).returning('*');
  return row as ProjectRow;
}

export interface ProjectChanges {
  name?: string | undefined;
  description?: string | undefined;
}

/** Applies the given changes; undefined when there is nothing to change. */
export async function updateProject(db: Tx, id: number, c: ProjectChanges): Promise<ProjectRow | undefined> {
  const patch = definedOnly({ name: c.name, description: c.description });
  if (Object.keys(patch).length === 0) return undefined;
  const [row] = await db('projects').where({ id }).update(patch).returning('*');
  return row as ProjectRow;
}

export async function deleteProject(db: Tx, id: number): Promise<void> {
  await db('projects').where({ id }).delete();
}

// ---- services ----

export async function listServices(
  db: Tx,
  f: Page & { q?: string | undefined; projectId?: number | undefined },
): Promise<Paged<ServiceRow>> {
  const qb = db('services').select('*');
  substring(qb, ['name', 'description'], f.q);
  if (f.projectId) qb.where({ project_id: f.projectId });
  return paged(qb, f, 'id');
}

export const getService = (db: Tx, id: number): Promise<ServiceRow> =>
  mustGet<ServiceRow>(db, 'services', id, 'service');

export interface NewService {
  projectId: number;
  name: string;
  description: string;
  hopTickets: boolean;
}

export async function insertService(db: Tx, s: NewService): Promise<ServiceRow> {
  const [row] = await db('services')
    .insert({ project_id: s.projectId, name: s.name, description: s.description, hop_tickets: s.hopTickets })
    .returning('*');
  return row as ServiceRow;
}

export interface ServiceChanges {
  projectId?: number | undefined;
  name?: string | undefined;
  description?: string | undefined;
  hopTickets?: boolean | undefined;
}

/** Applies the given changes; undefined when there is nothing to change. */
export async function updateService(db: Tx, id: number, c: ServiceChanges): Promise<ServiceRow | undefined> {
  const patch = definedOnly({
    project_id: c.projectId,
    name: c.name,
    description: c.description,
    hop_tickets: c.hopTickets,
  });
  if (Object.keys(patch).length === 0) return undefined;
  const [row] = await db('services').where({ id }).update(patch).returning('*');
  return row as ServiceRow;
}

export async function deleteService(db: Tx, id: number): Promise<void> {
  await db('services').where({ id }).delete();
}

// ---- what hangs off a scope ----

/**
 * Scoped things without a foreign key (roles, grants, request policies, rules)
 * are cleaned up with the project/service/host they point at: roles and
 * policies are deleted, grants revoked (kept for history). Command rules are a
 * security control, so they are never dropped silently: the delete is refused.
 */
export async function releaseScope(trx: Tx, scopeType: 'project' | 'service' | 'host', scopeId: number): Promise<void> {
  if (scopeType !== 'host') {
    const rules = await trx('command_rules')
      .where({ scope_type: scopeType, scope_id: scopeId })
      .count<{ n: string }[]>({ n: '*' });
    const n = Number(rules[0]!.n);
    if (n > 0)
      throw new JmpError(
        'conflict',
        `${n} command rule(s) are scoped to this ${scopeType}; delete or rescope them first`,
      );
    await trx('roles').where({ scope_type: scopeType, scope_id: scopeId }).delete();
  }
  await trx('request_policies').where({ scope_type: scopeType, scope_id: scopeId }).delete();
  await trx('grants')
    .where({ scope_type: scopeType, scope_id: scopeId })
    .whereNull('revoked_at')
    .update({ revoked_at: trx.fn.now() });
}
