// The rules of access requests (DESIGN: Access model), pure: who may ask for
// what and for how long, who may approve, who may see a request. Every fact
// comes in as a plain value and every answer carries a sentence saying why.
//
// Decisions written down here (the record until docs/ has a page on requests):
//
// * Policy: limits live per (project|service, right) in request_policies. The
//   policy of the narrowest scope that has one for the right applies: a host
//   uses its service's policy, else its project's; a service uses its own,
//   else its project's; a project its own. With none, the built-in default:
//   anyone may ask, at most 7 days for login and 1 day for root, department
//   subjects allowed. Administrators are bound by the limits too: they need
//   no request, they can grant directly.
// * Who may ask: a policy with allowed departments admits members of those
//   departments or of their sub-departments. For a department subject it is
//   the department asked for (the people who would get the access) that must
//   lie inside the allowed departments.
// * Department subjects: only that department's leader (departments.leader_id)
//   or an administrator may ask for a whole department, and only where the
//   policy allows department subjects.
// * Approval chain, one approval by an eligible approver suffices:
//     login on a host or service → an owner or ops of that service (a host
//       uses its service);
//     login on a project         → an owner or ops of the project;
//     root on a host or service  → an ops lead of the service;
//     root on a project          → an ops lead of the project.
//   Project roles do not approve requests on a service: the people who run a
//   service decide about it. A host without a service can only be approved by
//   an administrator.
// * Administrators (users.is_admin) may approve anything: break-glass.
// * Nobody approves or rejects their own request, administrators included.
// * A request may be seen by its requester, by whoever may approve it, and by
//   administrators and auditors.
import type { Right, ScopeType } from '@jmp/contract/schemas/primitives';

/** The thing asked for, resolved to its service and project. */
export interface RequestTarget {
  type: ScopeType;
  id: number;
  name: string;
  serviceId: number | null;
  serviceName: string | null;
  projectId: number | null;
  projectName: string | null;
}

export interface Policy {
  /** 'default' is the built-in policy. */
  scopeType: 'service' | 'project' | 'default';
  scopeId: number | null;
  right: Right;
  maxSeconds: number;
  /** null: anyone may ask; else members of these departments or their sub-departments. */
  allowedDepartmentIds: readonly number[] | null;
  allowDepartmentSubjects: boolean;
}

export const DEFAULT_MAX_SECONDS: Readonly<Record<Right, number>> = {
  login: 7 * 86400,
  root: 86400,
  device: 86400,
  // Read and write are asked for like login; admin (DDL, every command) like root.
  mariadb_read: 7 * 86400,
  mariadb_write: 86400,
  mariadb_admin: 86400,
  redis_read: 7 * 86400,
  redis_write: 86400,
  redis_admin: 86400,
};

export function builtInPolicy(right: Right): Policy {
  return {
    scopeType: 'default',
    scopeId: null,
    right,
    maxSeconds: DEFAULT_MAX_SECONDS[right],
    allowedDepartmentIds: null,
    allowDepartmentSubjects: true,
  };
}

export function scopeLabel(t: Pick<RequestTarget, 'type' | 'name'>): string {
  return `${t.type} ${t.name}`;
}

/** The scopes whose policy may apply, narrowest first. */
function policyScopes(t: RequestTarget): Array<{ type: 'service' | 'project'; id: number }> {
  const out: Array<{ type: 'service' | 'project'; id: number }> = [];
  if (t.type !== 'project' && t.serviceId !== null) out.push({ type: 'service', id: t.serviceId });
  if (t.projectId !== null) out.push({ type: 'project', id: t.projectId });
  return out;
}

/** The policy of the narrowest scope that has one for this right, else the built-in default. */
export function effectivePolicy(t: RequestTarget, right: Right, policies: readonly Policy[]): Policy {
  for (const s of policyScopes(t)) {
    const p = policies.find((x) => x.scopeType === s.type && x.scopeId === s.id && x.right === right);
    if (p) return p;
  }
  return builtInPolicy(right);
}

export function policyLabel(p: Policy, t: RequestTarget): string {
  if (p.scopeType === 'default') return 'built-in default';
  const name =
    p.scopeType === 'service' && p.scopeId === t.serviceId
      ? t.serviceName
      : p.scopeType === 'project' && p.scopeId === t.projectId
        ? t.projectName
        : null;
  return `policy of ${p.scopeType} ${name ?? `#${p.scopeId}`}`;
}

export type Verdict = { ok: true; reason: string } | { ok: false; reason: string };

export interface Requester {
  id: number;
  username: string;
  isAdmin: boolean;
  /** The requester's department and every ancestor of it, nearest first; empty without one. */
  departmentIds: readonly number[];
}

export type Subject =
  | { type: 'user' }
  | {
      type: 'department';
      id: number;
      name: string;
      leaderId: number | null;
      /** The department itself and every ancestor of it, nearest first. */
      departmentIds: readonly number[];
    };

export interface AskInput {
  requester: Requester;
  subject: Subject;
  target: RequestTarget;
  right: Right;
  durationSeconds: number;
  policy: Policy;
  /** Department names for messages; ids are shown where a name is missing. */
  departmentNames?: ReadonlyMap<number, string>;
}

/** May this person ask for this access, for this long? */
export function checkAsk(a: AskInput): Verdict {
  const what = `${a.right} on ${scopeLabel(a.target)}`;
  const why = policyLabel(a.policy, a.target);
  if (a.subject.type === 'department') {
    // Asking for a whole department widens access for every member: only the
    // person answerable for the department (its leader) or an administrator may.
    if (a.subject.leaderId !== a.requester.id && !a.requester.isAdmin) {
      return {
        ok: false,
        reason: `only the leader of department ${a.subject.name} or an administrator may request access for the whole department`,
      };
    }
    if (!a.policy.allowDepartmentSubjects) {
      return {
        ok: false,
        reason: `${what} may not be requested for a whole department (${why}); request it for yourself`,
      };
    }
  }
  if (a.policy.allowedDepartmentIds !== null) {
    const allowed = a.policy.allowedDepartmentIds;
    const chain = a.subject.type === 'department' ? a.subject.departmentIds : a.requester.departmentIds;
    if (!chain.some((d) => allowed.includes(d))) {
      const names = allowed.map((d) => a.departmentNames?.get(d) ?? `#${d}`).join(', ');
      const who = a.subject.type === 'department' ? `department ${a.subject.name} is not` : 'you are not';
      return {
        ok: false,
        reason: `${what} may only be requested for members of department${allowed.length === 1 ? '' : 's'} ${names || '(none)'} or their sub-departments, and ${who} (${why})`,
      };
    }
  }
  if (a.durationSeconds > a.policy.maxSeconds) {
    return { ok: false, reason: `${what} may be requested for at most ${a.policy.maxSeconds} s (${why})` };
  }
  return { ok: true, reason: `${what} for up to ${a.policy.maxSeconds} s (${why})` };
}

export interface ApproverRole {
  scopeType: 'project' | 'service';
  scopeId: number;
  role: 'owner' | 'ops';
  opsLead: boolean;
}

export interface Approver {
  id: number;
  isAdmin: boolean;
  roles: readonly ApproverRole[];
}

export interface Requirement {
  /** Where the approver's role must be; null when only administrators can approve. */
  scope: { type: 'service' | 'project'; id: number; name: string } | null;
  leadOnly: boolean;
  /** "an ops lead of service web", "an owner or ops of project shop", "an administrator". */
  who: string;
}

/** Who must approve `right` on this target (administrators always may, as break-glass). */
export function requirement(t: RequestTarget, right: Right): Requirement {
  // A device session uses the device's shared privileged account: approved like root.
  const leadOnly = right === 'root' || right === 'device' || right.endsWith('_admin');
  const scope =
    t.type === 'project'
      ? { type: 'project' as const, id: t.id, name: t.name }
      : t.serviceId !== null
        ? { type: 'service' as const, id: t.serviceId, name: t.serviceName ?? `#${t.serviceId}` }
        : null;
  if (!scope) return { scope: null, leadOnly, who: `an administrator (${scopeLabel(t)} belongs to no service)` };
  return { scope, leadOnly, who: `${leadOnly ? 'an ops lead' : 'an owner or ops'} of ${scope.type} ${scope.name}` };
}

export function holdsRequirement(roles: readonly ApproverRole[], req: Requirement): ApproverRole | undefined {
  const s = req.scope;
  if (!s) return undefined;
  return roles.find(
    (r) => r.scopeType === s.type && r.scopeId === s.id && (req.leadOnly ? r.role === 'ops' && r.opsLead : true),
  );
}

export interface RequestFacts {
  requesterId: number;
  right: Right;
  target: RequestTarget;
}

/** May this person approve (or reject) this request? */
export function checkApprove(approver: Approver, r: RequestFacts): Verdict {
  const req = requirement(r.target, r.right);
  if (approver.id === r.requesterId) {
    return { ok: false, reason: `you cannot approve or reject your own request; ${req.who} must decide it` };
  }
  const role = holdsRequirement(approver.roles, req);
  if (role)
    return { ok: true, reason: `${role.opsLead ? 'ops lead' : role.role} of ${role.scopeType} ${req.scope!.name}` };
  if (approver.isAdmin) return { ok: true, reason: 'administrator (break-glass)' };
  return { ok: false, reason: `${r.right} on ${scopeLabel(r.target)} must be approved by ${req.who}` };
}

export interface Viewer extends Approver {
  isAuditor: boolean;
}

/** Requester, whoever may approve, administrators and auditors. */
export function canSee(v: Viewer, r: RequestFacts): boolean {
  return v.id === r.requesterId || v.isAdmin || v.isAuditor || checkApprove(v, r).ok;
}
