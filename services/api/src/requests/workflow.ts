// The request workflow: gathers facts with the repository, asks rules.ts,
// writes the outcome and its audit event in one transaction. Routes call this.
import type { Knex } from 'knex';
import { JmpError } from '@jmp/contract';
import type {
  AccessRequestDetail,
  AccessRequestView,
  CreateAccessRequest,
  RequestScope,
} from '@jmp/contract/schemas/requests';
import { appendAudit } from '../audit/audit.js';
import * as repo from './repository.js';
import {
  checkApprove,
  checkAsk,
  canSee,
  effectivePolicy,
  requirement,
  type RequestFacts,
  type Subject,
} from './rules.js';

/** The person calling (from the session principal). */
export interface Caller {
  id: number;
  username: string;
  isAdmin: boolean;
  isAuditor: boolean;
}

export interface WorkflowEnv {
  db: Knex;
  now: Date;
  actor: string;
  requestTtlSeconds: number;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function factsOf(row: repo.RequestRow): RequestFacts {
  return { requesterId: row.requester_id, right: row.right, target: repo.targetOf(row) };
}

function approversOf(target: ReturnType<typeof repo.targetOf>, right: repo.RequestRow['right']): string {
  const req = requirement(target, right);
  return req.scope ? `${req.who}, or an administrator` : req.who;
}

export function toView(row: repo.RequestRow): AccessRequestView {
  const target = repo.targetOf(row);
  return {
    id: row.id,
    status: row.status,
    requester: { id: row.requester_id, username: row.requester_username ?? `#${row.requester_id}` },
    subject: { type: row.subject_type, id: row.subject_id, name: row.subject_name ?? `#${row.subject_id}` },
    scope: {
      type: target.type,
      id: target.id,
      name: target.name,
      serviceId: target.serviceId,
      projectId: target.projectId,
    },
    right: row.right,
    durationSeconds: row.duration_seconds,
    reason: row.reason,
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at)!,
    decidedAt: iso(row.decided_at),
    decidedBy:
      row.decided_by === null
        ? null
        : { id: row.decided_by, username: row.decided_by_username ?? `#${row.decided_by}` },
    decisionNote: row.decision_note,
    grantId: row.grant_id,
    approvers: approversOf(target, row.right),
  };
}

async function detail(db: Knex, row: repo.RequestRow): Promise<AccessRequestDetail> {
  const approvals = await repo.approvalsOf(db, row.id);
  return {
    ...toView(row),
    approvals: approvals.map((a) => ({
      approver: { id: a.approver_id, username: a.approver_username ?? `#${a.approver_id}` },
      decision: a.decision,
      note: a.note,
      at: iso(a.created_at)!,
    })),
  };
}

function describeScope(s: RequestScope): string {
  return s.hostname !== undefined ? `no host named ${s.hostname}` : `no ${s.type} #${s.id}`;
}

export async function createRequest(
  env: WorkflowEnv,
  caller: Caller,
  input: CreateAccessRequest,
): Promise<AccessRequestDetail> {
  const { db, now } = env;
  const target = await repo.resolveScope(db, input.scope);
  if (!target) throw new JmpError('not_found', describeScope(input.scope));

  let subject: Subject = { type: 'user' };
  if (input.subject) {
    const d = await repo.getDepartment(db, input.subject.id);
    if (!d) throw new JmpError('not_found', `no department #${input.subject.id}`);
    subject = {
      type: 'department',
      id: d.id,
      name: d.name,
      leaderId: d.leaderId,
      departmentIds: await repo.departmentChain(db, d.id),
    };
  }
  const policy = effectivePolicy(target, input.right, await repo.policiesFor(db, target));
  const verdict = checkAsk({
    requester: {
      id: caller.id,
      username: caller.username,
      isAdmin: caller.isAdmin,
      departmentIds: await repo.departmentChain(db, await repo.userDepartmentId(db, caller.id)),
    },
    subject,
    target,
    right: input.right,
    durationSeconds: input.durationSeconds,
    policy,
    departmentNames: await repo.departmentNames(db, policy.allowedDepartmentIds ?? []),
  });
  if (!verdict.ok)
    throw new JmpError('forbidden', verdict.reason, {
      policy: policy.scopeType === 'default' ? 'default' : `${policy.scopeType}:${policy.scopeId}`,
      maxSeconds: policy.maxSeconds,
    });

  const id = await db.transaction(async (trx) => {
    const id = await repo.insertRequest(trx, {
      requesterId: caller.id,
      subjectType: subject.type,
      subjectId: subject.type === 'department' ? subject.id : caller.id,
      scopeType: target.type,
      scopeId: target.id,
      right: input.right,
      durationSeconds: input.durationSeconds,
      reason: input.reason,
      createdAt: now,
      expiresAt: new Date(now.getTime() + env.requestTtlSeconds * 1000),
    });
    await appendAudit(trx, {
      actor: env.actor,
      action: 'request.created',
      target: `request:${id}`,
      data: {
        subject: subject.type === 'department' ? `department:${subject.id}` : `user:${caller.id}`,
        scope: `${target.type}:${target.id}`,
        right: input.right,
        durationSeconds: input.durationSeconds,
        reason: input.reason,
        policy: verdict.reason,
      },
    });
    return id;
  });
  return detail(db, (await repo.getRequest(db, id))!);
}

export type Decision = 'approve' | 'reject' | 'cancel';

const STATUS_OF: Record<Decision, 'approved' | 'rejected' | 'cancelled'> = {
  approve: 'approved',
  reject: 'rejected',
  cancel: 'cancelled',
};

/**
 * Approve, reject or cancel a pending request. Permission is checked before
 * state, so a stranger learns nothing from a 409. Approval creates the grant
 * in the same transaction as the status change, the approval row and the audit event.
 */
export async function decideRequest(
  env: WorkflowEnv,
  caller: Caller,
  id: number,
  decision: Decision,
  note: string | undefined,
): Promise<AccessRequestDetail> {
  const { db, now } = env;
  await repo.expireRequests(db, now);
  const roles = decision === 'cancel' ? [] : await repo.rolesOf(db, caller.id);
  await db.transaction(async (trx) => {
    const row = await repo.lockRequest(trx, id);
    if (!row) throw new JmpError('not_found', `no access request #${id}`);
    const facts = factsOf(row);
    let approvedAs = '';
    if (decision === 'cancel') {
      if (row.requester_id !== caller.id)
        throw new JmpError('forbidden', `only the requester may cancel request #${id}; approvers reject it instead`);
    } else {
      const v = checkApprove({ id: caller.id, isAdmin: caller.isAdmin, roles }, facts);
      if (!v.ok) throw new JmpError('forbidden', v.reason);
      approvedAs = v.reason;
    }
    if (row.status !== 'pending')
      throw new JmpError(
        'conflict',
        `request #${id} is already ${row.status}${row.decided_by_username ? ` (by ${row.decided_by_username})` : ''}; it cannot be decided again`,
      );
    // expireRequests ran just before; this only closes the gap of a few milliseconds.
    if (new Date(row.expires_at).getTime() <= now.getTime())
      throw new JmpError('conflict', `request #${id} expired at ${iso(row.expires_at)}; ask again`);

    const status = STATUS_OF[decision];
    let grantId: number | undefined;
    let validUntil: Date | undefined;
    if (decision === 'approve') {
      validUntil = new Date(now.getTime() + row.duration_seconds * 1000);
      grantId = await repo.insertRequestGrant(trx, {
        requestId: id,
        subjectType: row.subject_type,
        subjectId: row.subject_id,
        scopeType: row.scope_type,
        scopeId: row.scope_id,
        right: row.right,
        validFrom: now,
        validUntil,
        createdBy: caller.id,
      });
    }
    if (decision !== 'cancel')
      await repo.insertApproval(trx, { requestId: id, approverId: caller.id, decision, note: note ?? '', at: now });
    await repo.markDecided(trx, id, {
      status,
      at: now,
      by: caller.id,
      note: note ?? null,
      ...(grantId !== undefined ? { grantId } : {}),
    });
    await appendAudit(trx, {
      actor: env.actor,
      action: `request.${status}`,
      target: `request:${id}`,
      data: {
        subject: `${row.subject_type}:${row.subject_id}`,
        scope: `${row.scope_type}:${row.scope_id}`,
        right: row.right,
        ...(note ? { note } : {}),
        ...(approvedAs ? { as: approvedAs } : {}),
        ...(grantId !== undefined ? { grantId, validUntil: validUntil!.toISOString() } : {}),
      },
    });
  });
  return detail(db, (await repo.getRequest(db, id))!);
}

export async function getVisibleRequest(env: WorkflowEnv, caller: Caller, id: number): Promise<AccessRequestDetail> {
  await repo.expireRequests(env.db, env.now);
  const row = await repo.getRequest(env.db, id);
  if (!row) throw new JmpError('not_found', `no access request #${id}`);
  const roles =
    caller.isAdmin || caller.isAuditor || row.requester_id === caller.id ? [] : await repo.rolesOf(env.db, caller.id);
  if (!canSee({ ...caller, roles }, factsOf(row))) {
    throw new JmpError(
      'forbidden',
      `request #${id} is visible to its requester, to ${requirement(repo.targetOf(row), row.right).who}, and to administrators and auditors`,
    );
  }
  return detail(env.db, row);
}

export async function listRequests(
  env: WorkflowEnv,
  caller: Caller,
  q: { mine: '0' | '1'; status?: repo.RequestStatus | undefined; limit: number; before?: number | undefined },
): Promise<AccessRequestView[]> {
  if (q.mine === '0' && !caller.isAdmin && !caller.isAuditor)
    throw new JmpError('forbidden', "only administrators and auditors may list everyone's requests; use mine=1");
  await repo.expireRequests(env.db, env.now);
  const rows = await repo.listRequests(env.db, {
    limit: q.limit,
    ...(q.mine === '1' ? { requesterId: caller.id } : {}),
    ...(q.status ? { status: q.status } : {}),
    ...(q.before !== undefined ? { before: q.before } : {}),
  });
  return rows.map(toView);
}

/** Exactly the pending requests the caller may approve, oldest first. */
export async function pendingForApproval(env: WorkflowEnv, caller: Caller): Promise<AccessRequestView[]> {
  await repo.expireRequests(env.db, env.now);
  const roles = await repo.rolesOf(env.db, caller.id);
  const approver = { id: caller.id, isAdmin: caller.isAdmin, roles };
  const rows = await repo.pendingCandidates(env.db, {
    approverId: caller.id,
    isAdmin: caller.isAdmin,
    roles,
    now: env.now,
    limit: 500,
  });
  return rows.filter((r) => checkApprove(approver, factsOf(r)).ok).map(toView);
}
