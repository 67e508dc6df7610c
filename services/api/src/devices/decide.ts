// decideDevice(): may this person open this network device, and why. The
// device right follows the organisation like root on a host (a device account
// is a shared privileged login): service/project ops always, owners on an
// offline device; anything else is a `device` grant on the device's service or
// project (requested and approved like root). Pure, like access/decide.ts.
import type { HostState } from '@jmp/contract/schemas/primitives';
import {
  applicableRoles,
  disabledDecision,
  grantDecision,
  grantSubjectMatches,
  longestActiveGrant,
  roleGiving,
  rolesLabel,
  scopeLabel,
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

function grantMatches(g: DecideGrant, user: DecideUser, d: DecideDevice): boolean {
  if (g.right !== 'device' || !grantSubjectMatches(g, user)) return false;
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
  if (user.status !== 'active') return disabledDecision(user);
  const applicable = applicableRoles(roles, device);
  const role = roleGiving(applicable, device.state, 'root');
  if (role) {
    return {
      allow: true,
      reason: `${user.username} is ${role.role} of ${scopeLabel(device, role.scopeType)}: device on ${device.state} device ${device.name} by default`,
      via: { kind: 'role', role },
    };
  }
  const g = longestActiveGrant(grants, (x) => grantMatches(x, user, device), now);
  if (g) return grantDecision(g, user);
  const hint =
    applicable.length > 0 ? ` (${rolesLabel(applicable, device)} gives device access only on an offline device)` : '';
  return {
    allow: false,
    reason: `no device right for ${user.username} on ${device.name}${hint}; request access in jmp`,
    via: { kind: 'none' },
  };
}
