// decide(): may this person log in to / become root on this host, and why.
// Pure: every fact comes in as a plain value, so each cell of the
// default-rights table and each grant shape is unit-tested without I/O.
import type { Right, ScopeType, SubjectType, HostState } from '@jmp/contract/schemas/primitives';
import { environmentLabel } from '@jmp/contract/schemas/access';

export interface DecideUser {
  id: number;
  username: string;
  status: 'active' | 'disabled';
  /** The user's department and every ancestor of it, nearest first. */
  departmentIds: readonly number[];
}

export interface DecideHost {
  id: number;
  hostname: string;
  state: HostState;
  serviceId: number | null;
  serviceName?: string;
  projectId: number | null;
  projectName?: string;
}

export interface DecideRole {
  scopeType: 'project' | 'service';
  scopeId: number;
  role: 'owner' | 'ops';
}

export interface DecideGrant {
  id: number;
  subjectType: SubjectType;
  subjectId: number;
  scopeType: ScopeType;
  scopeId: number;
  right: Right;
  validFrom: Date;
  validUntil: Date | null;
  revokedAt?: Date | null;
}

export interface Decision {
  allow: boolean;
  reason: string;
  /** What allowed it: a default role, a grant, or nothing. */
  via: { kind: 'role'; role: DecideRole } | { kind: 'grant'; grantId: number } | { kind: 'none' };
}

/** The default-rights table of DESIGN.md: which rights a role brings on a host in a given state. */
export function roleRights(role: DecideRole['role'], state: HostState): readonly Right[] {
  if (role === 'ops') return ['login', 'root'];
  return state === 'offline' ? ['login', 'root'] : ['login'];
}

/** A grant of `root` includes `login`: becoming root needs a session first. */
function grantCovers(granted: Right, wanted: Right): boolean {
  return granted === wanted || (granted === 'root' && wanted === 'login');
}

export function grantIsActive(g: DecideGrant, now: Date): boolean {
  if (g.revokedAt) return false;
  const t = now.getTime();
  return g.validFrom.getTime() <= t && (g.validUntil === null || t < g.validUntil.getTime());
}

/** Whether the grant is given to this user, directly or through one of their departments. */
export function grantSubjectMatches(g: DecideGrant, user: DecideUser): boolean {
  return g.subjectType === 'user' ? g.subjectId === user.id : user.departmentIds.includes(g.subjectId);
}

function grantMatches(g: DecideGrant, user: DecideUser, host: DecideHost): boolean {
  if (!grantSubjectMatches(g, user)) return false;
  switch (g.scopeType) {
    case 'host':
      return g.scopeId === host.id;
    case 'service':
      return host.serviceId !== null && g.scopeId === host.serviceId;
    case 'project':
      return host.projectId !== null && g.scopeId === host.projectId;
  }
}

/** What a default role is placed on: a host's or a device's service and project. */
export type RoleTarget = Pick<DecideHost, 'serviceId' | 'serviceName' | 'projectId' | 'projectName'>;

export function scopeLabel(t: RoleTarget, scope: DecideRole['scopeType']): string {
  return scope === 'service'
    ? `service ${t.serviceName ?? `#${t.serviceId}`}`
    : `project ${t.projectName ?? `#${t.projectId}`}`;
}

export function disabledDecision(user: DecideUser): Decision {
  return { allow: false, reason: `user ${user.username} is disabled`, via: { kind: 'none' } };
}

/** The roles that apply to the target, service before project, so a reason names the narrowest one. */
export function applicableRoles(roles: readonly DecideRole[], t: RoleTarget): DecideRole[] {
  return roles
    .filter((r) => (r.scopeType === 'service' ? r.scopeId === t.serviceId : r.scopeId === t.projectId))
    .sort((a, b) => (a.scopeType === b.scopeType ? 0 : a.scopeType === 'service' ? -1 : 1));
}

/** The first applicable role whose default rights on a target in this state include `right`. */
export function roleGiving(applicable: readonly DecideRole[], state: HostState, right: Right): DecideRole | undefined {
  return applicable.find((role) => roleRights(role.role, state).includes(right));
}

/** Of the active grants that match, the one that lasts longest (a permanent grant wins). */
export function longestActiveGrant(
  grants: readonly DecideGrant[],
  matches: (g: DecideGrant) => boolean,
  now: Date,
): DecideGrant | undefined {
  return grants
    .filter((g) => matches(g) && grantIsActive(g, now))
    .sort((a, b) => (b.validUntil?.getTime() ?? Infinity) - (a.validUntil?.getTime() ?? Infinity))[0];
}

export function grantDecision(g: DecideGrant, user: DecideUser): Decision {
  const who = g.subjectType === 'user' ? user.username : `department #${g.subjectId}`;
  const until = g.validUntil ? ` until ${g.validUntil.toISOString()}` : '';
  return {
    allow: true,
    reason: `grant #${g.id}: ${g.right} for ${who} on ${g.scopeType} #${g.scopeId}${until}`,
    via: { kind: 'grant', grantId: g.id },
  };
}

/** The roles that apply, named for a denial's hint. */
export function rolesLabel(applicable: readonly DecideRole[], t: RoleTarget): string {
  return applicable.map((r) => `${r.role} of ${scopeLabel(t, r.scopeType)}`).join(', ');
}

export function decide(
  user: DecideUser,
  host: DecideHost,
  right: Right,
  roles: readonly DecideRole[],
  grants: readonly DecideGrant[],
  now: Date = new Date(),
): Decision {
  if (user.status !== 'active') return disabledDecision(user);
  // Default rights first: they need no request.
  const applicable = applicableRoles(roles, host);
  const role = roleGiving(applicable, host.state, right);
  if (role) {
    return {
      allow: true,
      reason: `${user.username} is ${role.role} of ${scopeLabel(host, role.scopeType)}: ${right} on ${environmentLabel(host.state)} host ${host.hostname} by default`,
      via: { kind: 'role', role },
    };
  }
  // Then grants.
  const g = longestActiveGrant(grants, (x) => grantCovers(x.right, right) && grantMatches(x, user, host), now);
  if (g) return grantDecision(g, user);
  const hint =
    applicable.length > 0 && right === 'root'
      ? ` (${rolesLabel(applicable, host)} gives login only on a production host)`
      : '';
  return {
    allow: false,
    reason: `no ${right} right for ${user.username} on ${host.hostname}${hint}; request access in jmp`,
    via: { kind: 'none' },
  };
}
