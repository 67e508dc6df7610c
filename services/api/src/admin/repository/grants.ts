// Knex queries for roles (owner / ops on a project or service) and grants
// (login / root for a person or department). Grants are never deleted:
// revoking stamps revoked_at.
import type { Knex } from 'knex';
import { mustGet, paged, type Page, type Paged, type Tx } from './common.js';

export interface RoleRow {
  id: number;
  user_id: number;
  scope_type: 'project' | 'service';
  scope_id: number;
  role: 'owner' | 'ops';
  ops_lead: boolean;
  created_at: Date;
}

export interface GrantRow {
  id: number;
  subject_type: 'user' | 'department';
  subject_id: number;
  scope_type: 'host' | 'service' | 'project';
  scope_id: number;
  right: 'login' | 'root';
  valid_from: Date;
  valid_until: Date | null;
  origin: 'admin' | 'request';
  request_id: number | null;
  created_by: number | null;
  revoked_at: Date | null;
  created_at: Date;
}

// ---- roles ----

export interface RoleFilter extends Page {
  userId?: number | undefined;
  scopeType?: string | undefined;
  scopeId?: number | undefined;
  role?: string | undefined;
}

export async function listRoles(db: Tx, f: RoleFilter): Promise<Paged<RoleRow>> {
  const qb = db('roles').select('*');
  if (f.userId) qb.where({ user_id: f.userId });
  if (f.scopeType) qb.where({ scope_type: f.scopeType });
  if (f.scopeId) qb.where({ scope_id: f.scopeId });
  if (f.role) qb.where({ role: f.role });
  return paged(qb, f, 'id');
}

export const getRole = (db: Tx, id: number): Promise<RoleRow> => mustGet<RoleRow>(db, 'roles', id, 'role');

export interface NewRole {
  userId: number;
  scopeType: string;
  scopeId: number;
  role: string;
  opsLead: boolean;
}

export async function insertRole(db: Tx, r: NewRole): Promise<RoleRow> {
  const [row] = await db('roles')
    .insert({ user_id: r.userId, scope_type: r.scopeType, scope_id: r.scopeId, role: r.role, ops_lead: r.opsLead })
    .returning('*');
  return row as RoleRow;
}

export async function updateRole(db: Tx, id: number, r: { role: string; opsLead: boolean }): Promise<RoleRow> {
  const [row] = await db('roles').where({ id }).update({ role: r.role, ops_lead: r.opsLead }).returning('*');
  return row as RoleRow;
}

export async function deleteRole(db: Tx, id: number): Promise<void> {
  await db('roles').where({ id }).delete();
}

// ---- grants ----

export interface GrantFilter extends Page {
  subjectType?: string | undefined;
  subjectId?: number | undefined;
  scopeType?: string | undefined;
  scopeId?: number | undefined;
  right?: string | undefined;
  active?: boolean | undefined;
}

/** Grants matching the filter; `active` means in force at `now` (not revoked, inside its period). */
export async function listGrants(db: Tx, f: GrantFilter, now: Date): Promise<Paged<GrantRow>> {
  const qb = db('grants').select('*');
  if (f.subjectType) qb.where({ subject_type: f.subjectType });
  if (f.subjectId) qb.where({ subject_id: f.subjectId });
  if (f.scopeType) qb.where({ scope_type: f.scopeType });
  if (f.scopeId) qb.where({ scope_id: f.scopeId });
  if (f.right) qb.where({ right: f.right });
  if (f.active !== undefined) {
    const inForce = (w: Knex.QueryBuilder) =>
      w
        .whereNull('revoked_at')
        .where('valid_from', '<=', now)
        .where((v) => v.whereNull('valid_until').orWhere('valid_until', '>', now));
    if (f.active) qb.where(inForce);
    else qb.whereNot(inForce);
  }
  return paged(qb, f, 'id');
}

export const getGrant = (db: Tx, id: number): Promise<GrantRow> => mustGet<GrantRow>(db, 'grants', id, 'grant');

export interface NewGrant {
  subjectType: string;
  subjectId: number;
  scopeType: string;
  scopeId: number;
  right: string;
  validFrom: Date;
  validUntil: Date | null;
  createdBy: number | null;
}

/** A grant an administrator made (requests make theirs in requests/repository.ts). */
export async function insertGrant(db: Tx, g: NewGrant): Promise<GrantRow> {
  const [row] = await db('grants')
    .insert({
      subject_type: g.subjectType,
      subject_id: g.subjectId,
      scope_type: g.scopeType,
      scope_id: g.scopeId,
      right: g.right,
      valid_from: g.validFrom,
      valid_until: g.validUntil,
      origin: 'admin',
      created_by: g.createdBy,
    })
    .returning('*');
  return row as GrantRow;
}

export async function setGrantPeriod(db: Tx, id: number, validFrom: Date, validUntil: Date | null): Promise<GrantRow> {
  const [row] = await db('grants')
    .where({ id })
    .update({ valid_from: validFrom, valid_until: validUntil })
    .returning('*');
  return row as GrantRow;
}

export async function revokeGrant(db: Tx, id: number): Promise<void> {
  await db('grants').where({ id }).update({ revoked_at: db.fn.now() });
}

/** Revokes the grants still standing for a person or department (their rows stay). */
export async function revokeGrantsOf(db: Tx, subjectType: 'user' | 'department', subjectId: number): Promise<void> {
  await db('grants')
    .where({ subject_type: subjectType, subject_id: subjectId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() });
}
