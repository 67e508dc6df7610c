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

function grantMatches(g: DecideGrant, user: DecideUser, host: DecideHost): boolean {
  const subject = g.subjectType === 'user' ? g.subjectId === user.id : user.departmentIds.includes(g.subjectId);
  if (!subject) return false;
  switch (g.scopeType) {
    case 'host':
      return g.scopeId === host.id;
    case 'service':
      return host.serviceId !== null && g.scopeId === host.serviceId;
    case 'project':
      return host.projectId !== null && g.scopeId === host.projectId;
  }
}

function scopeLabel(host: DecideHost, scope: 'project' | 'service'): string {
  return scope === 'service'
    ? `service ${host.serviceName ?? `#${host.serviceId}`}`
    : `project ${host.projectName ?? `#${host.projectId}`}`;
}

export function decide(
  user: DecideUser,
  host: DecideHost,
  right: Right,
  roles: readonly DecideRole[],
  grants: readonly DecideGrant[],
  now: Date = new Date(),
): Decision {
  if (user.status !== 'active') {
    return { allow: false, reason: `user ${user.username} is disabled`, via: { kind: 'none' } };
  }
  // Default rights first: they need no request. Service before project, so the
  // reason names the narrowest role that applies.
  const applicable = roles
    .filter((r) => (r.scopeType === 'service' ? r.scopeId === host.serviceId : r.scopeId === host.projectId))
    .sort((a, b) => (a.scopeType === b.scopeType ? 0 : a.scopeType === 'service' ? -1 : 1));
  for (const role of applicable) {
    if (roleRights(role.role, host.state).includes(right)) {
      return {
        allow: true,
        reason: `${user.username} is ${role.role} of ${scopeLabel(host, role.scopeType)}: ${right} on ${environmentLabel(host.state)} host ${host.hostname} by default`,
        via: { kind: 'role', role },
      };
    }
  }
  // Then grants, the one that lasts longest first (a permanent grant wins).
  const matching = grants
    .filter((g) => grantCovers(g.right, right) && grantMatches(g, user, host) && grantIsActive(g, now))
    .sort((a, b) => (b.validUntil?.getTime() ?? Infinity) - (a.validUntil?.getTime() ?? Infinity));
  const g = matching[0];
  if (g) {
    const who = g.subjectType === 'user' ? user.username : `department #${g.subjectId}`;
    const until = g.validUntil ? ` until ${g.validUntil.toISOString()}` : '';
    return {
      allow: true,
      reason: `grant #${g.id}: ${g.right} for ${who} on ${g.scopeType} #${g.scopeId}${until}`,
      via: { kind: 'grant', grantId: g.id },
    };
  }
  const hint =
    applicable.length > 0 && right === 'root'
      ? ` (${applicable.map((r) => `${r.role} of ${scopeLabel(host, r.scopeType)}`).join(', ')} gives login only on a production host)`
      : '';
  return {
    allow: false,
    reason: `no ${right} right for ${user.username} on ${host.hostname}${hint}; request access in jmp`,
    via: { kind: 'none' },
  };
}
