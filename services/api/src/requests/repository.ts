// Knex queries for access requests, approvals, request policies and the
// grants an approval creates. No rules here: rules.ts decides, this stores.
import type { Knex } from 'knex';
import type { Right, ScopeType } from '@jmp/contract/schemas/primitives';
import { appendAudit } from '../audit/audit.js';
import type { ApproverRole, Policy, RequestTarget } from './rules.js';

export type RequestStatus = 'pending' | 'approved' | 'rejected' | 'cancelled' | 'expired';

/** An access_requests row with the names and the service/project of its scope. */
export interface RequestRow {
  id: number;
  requester_id: number;
  requester_username: string | null;
  subject_type: 'user' | 'department';
  subject_id: number;
  subject_name: string | null;
  scope_type: ScopeType;
  scope_id: number;
  right: Right;
  duration_seconds: number;
  reason: string;
  status: RequestStatus;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: number | null;
  decided_by_username: string | null;
  decision_note: string | null;
  grant_id: number | null;
  host_name: string | null;
  t_service_id: number | null;
  t_service_name: string | null;
  t_project_id: number | null;
  t_project_name: string | null;
}

/** Requests joined with their people and scope; a host's service and project, a service's project. */
function requestQuery(db: Knex) {
  return db('access_requests as r')
    .leftJoin('users as ru', 'ru.id', 'r.requester_id')
    .leftJoin('users as du', 'du.id', 'r.decided_by')
    .joinRaw(`LEFT JOIN users su ON r.subject_type = 'user' AND su.id = r.subject_id`)
    .joinRaw(`LEFT JOIN departments sd ON r.subject_type = 'department' AND sd.id = r.subject_id`)
    .joinRaw(`LEFT JOIN hosts h ON r.scope_type = 'host' AND h.id = r.scope_id`)
    .joinRaw(
      `LEFT JOIN services s ON s.id = CASE r.scope_type WHEN 'service' THEN r.scope_id WHEN 'host' THEN h.service_id END`,
    )
    .joinRaw(`LEFT JOIN projects p ON p.id = CASE r.scope_type WHEN 'project' THEN r.scope_id ELSE s.project_id END`)
    .select(
      'r.*',
      'ru.username as requester_username',
      'du.username as decided_by_username',
      db.raw('COALESCE(su.username, sd.name) AS subject_name'),
      'h.hostname as host_name',
      's.id as t_service_id',
      's.name as t_service_name',
      'p.id as t_project_id',
      'p.name as t_project_name',
    );
}

export function targetOf(row: RequestRow): RequestTarget {
  const name =
    row.scope_type === 'host' ? row.host_name : row.scope_type === 'service' ? row.t_service_name : row.t_project_name;
  return {
    type: row.scope_type,
    id: row.scope_id,
    name: name ?? `#${row.scope_id}`,
    serviceId: row.scope_type === 'service' ? row.scope_id : row.t_service_id,
    serviceName: row.t_service_name,
    projectId: row.scope_type === 'project' ? row.scope_id : row.t_project_id,
    projectName: row.t_project_name,
  };
}

export async function getRequest(db: Knex, id: number): Promise<RequestRow | undefined> {
  return requestQuery(db).where('r.id', id).first();
}

/** Locks the request row for a decision (inside a transaction). */
export async function lockRequest(trx: Knex.Transaction, id: number): Promise<RequestRow | undefined> {
  const locked = await trx('access_requests').where({ id }).forUpdate().first('id');
  return locked ? getRequest(trx, id) : undefined;
}

export async function listRequests(
  db: Knex,
  f: { requesterId?: number; status?: RequestStatus; limit: number; before?: number },
): Promise<RequestRow[]> {
  const q = requestQuery(db).orderBy('r.id', 'desc').limit(f.limit);
  if (f.requesterId !== undefined) q.where('r.requester_id', f.requesterId);
  if (f.status) q.where('r.status', f.status);
  if (f.before !== undefined) q.where('r.id', '<', f.before);
  return q;
}

/**
 * Pending requests of others whose scope lies where the approver holds a role
 * (all of them for an administrator), oldest first. A superset: the caller
 * filters with rules.checkApprove (ops lead for root and so on).
 */
export async function pendingCandidates(
  db: Knex,
  a: { approverId: number; isAdmin: boolean; roles: readonly ApproverRole[]; now: Date; limit: number },
): Promise<RequestRow[]> {
  const serviceIds = [...new Set(a.roles.filter((r) => r.scopeType === 'service').map((r) => r.scopeId))];
  const projectIds = [...new Set(a.roles.filter((r) => r.scopeType === 'project').map((r) => r.scopeId))];
  if (!a.isAdmin && serviceIds.length === 0 && projectIds.length === 0) return [];
  const q = requestQuery(db)
    .where('r.status', 'pending')
    .andWhere('r.expires_at', '>', a.now)
    .andWhereNot('r.requester_id', a.approverId)
    .orderBy('r.id', 'asc')
    .limit(a.limit);
  if (!a.isAdmin) {
    q.andWhere((w) => {
      w.where((x) => x.whereIn('r.scope_type', ['host', 'service']).whereIn('s.id', serviceIds)).orWhere((x) =>
        x.where('r.scope_type', 'project').whereIn('r.scope_id', projectIds),
      );
    });
  }
  return q;
}

export interface ApprovalRow {
  approver_id: number;
  approver_username: string | null;
  decision: 'approve' | 'reject';
  note: string;
  created_at: Date;
}

export async function approvalsOf(db: Knex, requestId: number): Promise<ApprovalRow[]> {
  return db('request_approvals as a')
    .leftJoin('users as u', 'u.id', 'a.approver_id')
    .where('a.request_id', requestId)
    .orderBy('a.id')
    .select('a.approver_id', 'u.username as approver_username', 'a.decision', 'a.note', 'a.created_at');
}

// ---- facts for the rules ----

type ResolvableScope = { type: ScopeType; id?: number | undefined; hostname?: string | undefined };

/** The host/service/project asked for, with its service and project; undefined when it does not exist. */
export async function resolveScope(db: Knex, scope: ResolvableScope): Promise<RequestTarget | undefined> {
  if (scope.type === 'host') {
    const q = db('hosts as h')
      .leftJoin('services as s', 's.id', 'h.service_id')
      .leftJoin('projects as p', 'p.id', 's.project_id')
      .first(
        'h.id',
        'h.hostname',
        's.id as service_id',
        's.name as service_name',
        'p.id as project_id',
        'p.name as project_name',
      );
    const row = await (scope.hostname !== undefined
      ? q.where('h.hostname', scope.hostname)
      : q.where('h.id', scope.id!));
    return (
      row && {
        type: 'host',
        id: row.id,
        name: row.hostname,
        serviceId: row.service_id,
        serviceName: row.service_name,
        projectId: row.project_id,
        projectName: row.project_name,
      }
    );
  }
  if (scope.type === 'service') {
    const row = await db('services as s')
      .join('projects as p', 'p.id', 's.project_id')
      .where('s.id', scope.id!)
      .first('s.id', 's.name', 'p.id as project_id', 'p.name as project_name');
    return (
      row && {
        type: 'service',
        id: row.id,
        name: row.name,
        serviceId: row.id,
        serviceName: row.name,
        projectId: row.project_id,
        projectName: row.project_name,
      }
    );
  }
  const row = await db('projects').where({ id: scope.id! }).first('id', 'name');
  return (
    row && {
      type: 'project',
      id: row.id,
      name: row.name,
      serviceId: null,
      serviceName: null,
      projectId: row.id,
      projectName: row.name,
    }
  );
}

export { departmentChain } from '../access/rows.js';

export async function userDepartmentId(db: Knex, userId: number): Promise<number | null> {
  const row = await db('users').where({ id: userId }).first('department_id');
  return row?.department_id ?? null;
}

export async function getDepartment(
  db: Knex,
  id: number,
): Promise<{ id: number; name: string; leaderId: number | null } | undefined> {
  const row = await db('departments').where({ id }).first('id', 'name', 'leader_id');
  return row && { id: row.id, name: row.name, leaderId: row.leader_id };
}

export async function departmentNames(db: Knex, ids: readonly number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows: Array<{ id: number; name: string }> = await db('departments')
    .whereIn('id', [...ids])
    .select('id', 'name');
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function rolesOf(db: Knex, userId: number): Promise<ApproverRole[]> {
  const rows: Array<{ scope_type: 'project' | 'service'; scope_id: number; role: 'owner' | 'ops'; ops_lead: boolean }> =
    await db('roles').where({ user_id: userId }).select('scope_type', 'scope_id', 'role', 'ops_lead');
  return rows.map((r) => ({ scopeType: r.scope_type, scopeId: r.scope_id, role: r.role, opsLead: r.ops_lead }));
}

// ---- writes ----

export interface NewRequest {
  requesterId: number;
  subjectType: 'user' | 'department';
  subjectId: number;
  scopeType: ScopeType;
  scopeId: number;
  right: Right;
  durationSeconds: number;
  reason: string;
  createdAt: Date;
  expiresAt: Date;
}

export async function insertRequest(trx: Knex.Transaction, r: NewRequest): Promise<number> {
  const [row] = await trx('access_requests')
    .insert({
      requester_id: r.requesterId,
      subject_type: r.subjectType,
      subject_id: r.subjectId,
      scope_type: r.scopeType,
      scope_id: r.scopeId,
      right: r.right,
      duration_seconds: r.durationSeconds,
      reason: r.reason,
      status: 'pending',
      created_at: r.createdAt,
      expires_at: r.expiresAt,
    })
    .returning('id');
  return row.id;
}

export async function insertApproval(
  trx: Knex.Transaction,
  a: { requestId: number; approverId: number; decision: 'approve' | 'reject'; note: string; at: Date },
): Promise<void> {
  await trx('request_approvals').insert({
    request_id: a.requestId,
    approver_id: a.approverId,
    decision: a.decision,
    note: a.note,
    created_at: a.at,
  });
}

export async function insertRequestGrant(
  trx: Knex.Transaction,
  g: {
    requestId: number;
    subjectType: 'user' | 'department';
    subjectId: number;
    scopeType: ScopeType;
    scopeId: number;
    right: Right;
    validFrom: Date;
    validUntil: Date;
    createdBy: number;
  },
): Promise<number> {
  const [row] = await trx('grants')
    .insert({
      subject_type: g.subjectType,
      subject_id: g.subjectId,
      scope_type: g.scopeType,
      scope_id: g.scopeId,
      right: g.right,
      valid_from: g.validFrom,
      valid_until: g.validUntil,
      origin: 'request',
      request_id: g.requestId,
      created_by: g.createdBy,
    })
    .returning('id');
  return row.id;
}

export async function markDecided(
  trx: Knex.Transaction,
  id: number,
  d: { status: Exclude<RequestStatus, 'pending'>; at: Date; by: number | null; note: string | null; grantId?: number },
): Promise<void> {
  await trx('access_requests')
    .where({ id, status: 'pending' })
    .update({
      status: d.status,
      decided_at: d.at,
      decided_by: d.by,
      decision_note: d.note,
      grant_id: d.grantId ?? null,
    });
}

/**
 * Marks every pending request whose time is up as expired and audits each.
 * Called lazily before requests are read or decided, and every minute by
 * expiry-job.ts. Safe to run concurrently on many
 * instances: the UPDATE claims each row once. Returns the expired ids.
 */
export async function expireRequests(db: Knex, now: Date = new Date()): Promise<number[]> {
  const due = await db('access_requests').where('status', 'pending').andWhere('expires_at', '<=', now).first('id');
  if (!due) return [];
  return db.transaction(async (trx) => {
    const rows: Array<{
      id: number;
      requester_id: number;
      subject_type: string;
      subject_id: number;
      scope_type: string;
      scope_id: number;
      right: string;
      expires_at: Date;
    }> = await trx('access_requests')
      .where('status', 'pending')
      .andWhere('expires_at', '<=', now)
      .update({ status: 'expired', decided_at: now, decided_by: null, decision_note: 'not decided before it expired' })
      .returning(['id', 'requester_id', 'subject_type', 'subject_id', 'scope_type', 'scope_id', 'right', 'expires_at']);
    for (const r of rows.sort((a, b) => a.id - b.id)) {
      await appendAudit(trx, {
        actor: 'system:expiry',
        action: 'request.expired',
        target: `request:${r.id}`,
        data: {
          requesterId: r.requester_id,
          subject: `${r.subject_type}:${r.subject_id}`,
          scope: `${r.scope_type}:${r.scope_id}`,
          right: r.right,
          expiresAt: new Date(r.expires_at).toISOString(),
        },
      });
    }
    return rows.map((r) => r.id);
  });
}

// ---- request policies ----

interface PolicyRow {
  id: number;
  scope_type: 'project' | 'service';
  scope_id: number;
  right: Right;
  max_seconds: number;
  allowed_department_ids: number[] | null;
  allow_department_subjects: boolean;
}

export type StoredPolicy = Policy & { id: number; scopeType: 'project' | 'service'; scopeId: number };

function toPolicy(r: PolicyRow): StoredPolicy {
  return {
    id: r.id,
    scopeType: r.scope_type,
    scopeId: r.scope_id,
    right: r.right,
    maxSeconds: r.max_seconds,
    allowedDepartmentIds: r.allowed_department_ids,
    allowDepartmentSubjects: r.allow_department_subjects,
  };
}

/** Policies that may apply to a target: its service's and its project's. */
export async function policiesFor(db: Knex, t: RequestTarget): Promise<StoredPolicy[]> {
  if (t.serviceId === null && t.projectId === null) return [];
  const rows: PolicyRow[] = await db('request_policies').where((w) => {
    if (t.serviceId !== null) w.orWhere({ scope_type: 'service', scope_id: t.serviceId });
    if (t.projectId !== null) w.orWhere({ scope_type: 'project', scope_id: t.projectId });
  });
  return rows.map(toPolicy);
}

export async function listPolicies(
  db: Knex,
  f: { scopeType?: 'project' | 'service'; scopeId?: number; right?: Right },
): Promise<StoredPolicy[]> {
  const q = db('request_policies').orderBy(['scope_type', 'scope_id', 'right']);
  if (f.scopeType) q.where('scope_type', f.scopeType);
  if (f.scopeId !== undefined) q.where('scope_id', f.scopeId);
  if (f.right) q.where('right', f.right);
  return ((await q) as PolicyRow[]).map(toPolicy);
}

export async function upsertPolicy(
  trx: Knex.Transaction,
  p: {
    scopeType: 'project' | 'service';
    scopeId: number;
    right: Right;
    maxSeconds: number;
    allowedDepartmentIds: readonly number[] | null;
    allowDepartmentSubjects: boolean;
  },
): Promise<StoredPolicy> {
  const [row] = await trx('request_policies')
    .insert({
      scope_type: p.scopeType,
      scope_id: p.scopeId,
      right: p.right,
      max_seconds: p.maxSeconds,
      allowed_department_ids:
        p.allowedDepartmentIds === null ? null : JSON.stringify([...new Set(p.allowedDepartmentIds)]),
      allow_department_subjects: p.allowDepartmentSubjects,
    })
    .onConflict(['scope_type', 'scope_id', 'right'])
    .merge(['max_seconds', 'allowed_department_ids', 'allow_department_subjects'])
    .returning('*');
  return toPolicy(row as PolicyRow);
}

export async function deletePolicy(
  trx: Knex.Transaction,
  k: { scopeType: 'project' | 'service'; scopeId: number; right: Right },
): Promise<StoredPolicy | undefined> {
  const [row] = await trx('request_policies')
    .where({ scope_type: k.scopeType, scope_id: k.scopeId, right: k.right })
    .del()
    .returning('*');
  return row ? toPolicy(row as PolicyRow) : undefined;
}

export async function scopeExists(db: Knex, type: 'project' | 'service', id: number): Promise<boolean> {
  return !!(await db(type === 'project' ? 'projects' : 'services')
    .where({ id })
    .first('id'));
}

export async function missingDepartments(db: Knex, ids: readonly number[]): Promise<number[]> {
  const found = await departmentNames(db, ids);
  return ids.filter((id) => !found.has(id));
}
