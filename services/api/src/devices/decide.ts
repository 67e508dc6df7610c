// decideDevice(): may this person open this network device, and why. The
// device right follows the organisation like root on a host (a device account
// is a shared privileged login): service/project ops always, owners on an
// offline device; anything else is a `device` grant on the device's service or
// project (requested and approved like root). Pure, like access/decide.ts.
import type { HostState } from '@jmp/contract/schemas/primitives';
import {
  grantIsActive,
  roleRights,
  type DecideGrant,
  type DecideRole,
  type DecideUser,
  type Decision,
} from '../access/decide.js';

export interface DecideDevice {
  id: number;
  name: string;
  state: HostState;
  serviceId: number | null;
  serviceName?: string;
  projectId: number | null;
  projectName?: string;
}

function scopeLabel(d: DecideDevice, scope: 'project' | 'service'): string {
  return scope === 'service'
    ? `service ${d.serviceName ?? `#${d.serviceId}`}`
    : `project ${d.projectName ?? `#${d.projectId}`}`;
}

function grantMatches(g: DecideGrant, user: DecideUser, d: DecideDevice): boolean {
  if (g.right !== 'device') return false;
  const subject = g.subjectType === 'user' ? g.subjectId === user.id : user.departmentIds.includes(g.subjectId);
  if (!subject) return false;
  if (g.scopeType === 'service') return d.serviceId !== null && g.scopeId === d.serviceId;
  if (g.scopeType === 'project') return d.projectId !== null && g.scopeId === d.projectId;
  return false;
}

export function decideDevice(
  user: DecideUser,
  device: DecideDevice,
  roles: readonly DecideRole[],
  grants: readonly DecideGrant[],
  now: Date = new Date(),
): Decision {
  if (user.status !== 'active') {
    return { allow: false, reason: `user ${user.username} is disabled`, via: { kind: 'none' } };
  }
  const applicable = roles
    .filter((r) => (r.scopeType === 'service' ? r.scopeId === device.serviceId : r.scopeId === device.projectId))
    .sort((a, b) => (a.scopeType === b.scopeType ? 0 : a.scopeType === 'service' ? -1 : 1));
  for (const role of applicable) {
    if (roleRights(role.role, device.state).includes('root')) {
      return {
        allow: true,
        reason: `${user.username} is ${role.role} of ${scopeLabel(device, role.scopeType)}: device on ${device.state} device ${device.name} by default`,
        via: { kind: 'role', role },
      };
    }
  }
  const g = grants
    .filter((x) => grantMatches(x, user, device) && grantIsActive(x, now))
    .sort((a, b) => (b.validUntil?.getTime() ?? Infinity) - (a.validUntil?.getTime() ?? Infinity))[0];
  if (g) {
    const who = g.subjectType === 'user' ? user.username : `department #${g.subjectId}`;
    const until = g.validUntil ? ` until ${g.validUntil.toISOString()}` : '';
    return {
      allow: true,
      reason: `grant #${g.id}: device for ${who} on ${g.scopeType} #${g.scopeId}${until}`,
      via: { kind: 'grant', grantId: g.id },
    };
  }
  const hint =
    applicable.length > 0
      ? ` (${applicable.map((r) => `${r.role} of ${scopeLabel(device, r.scopeType)}`).join(', ')} gives device access only on an offline device)`
      : '';
  return {
    allow: false,
    reason: `no device right for ${user.username} on ${device.name}${hint}; request access in jmp`,
    via: { kind: 'none' },
  };
}
