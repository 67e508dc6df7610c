// Database rights: which level (read, write, admin) a person has on one kind
// of database (mariadb, redis) on a host, and why. Defaults from the
// organisation — ops: write on non-production (offline) hosts, read on
// production; owners: read — and grants for more (mariadb_write, …), each
// level including the ones below. Pure, like decide(): plain values in.
import type { DbKind, DbLevel, Right } from '@jmp/contract/schemas/primitives';
import { grantIsActive, type DecideGrant, type DecideHost, type DecideRole, type DecideUser } from './decide.js';

export const DB_LEVELS: readonly DbLevel[] = ['read', 'write', 'admin'];

export interface DbDecision {
  level: DbLevel | null;
  reason: string;
}

/** The database right a grant of `right` gives on `kind`, if any. */
export function grantLevel(right: Right, kind: DbKind): DbLevel | null {
  const [k, level] = right.split('_');
  return k === kind && (DB_LEVELS as readonly string[]).includes(level ?? '') ? (level as DbLevel) : null;
}

/** The default-rights table for databases. */
export function roleDbLevel(role: DecideRole['role'], state: DecideHost['state']): DbLevel {
  return role === 'ops' && state === 'offline' ? 'write' : 'read';
}

const rank = (l: DbLevel) => DB_LEVELS.indexOf(l);

export function decideDb(
  user: DecideUser,
  host: DecideHost,
  kind: DbKind,
  roles: readonly DecideRole[],
  grants: readonly DecideGrant[],
  now: Date = new Date(),
): DbDecision {
  if (user.status !== 'active') return { level: null, reason: `user ${user.username} is disabled` };
  let best: DbDecision = {
    level: null,
    reason: `no ${kind} right for ${user.username} on ${host.hostname}; request access in jmp`,
  };
  const better = (level: DbLevel, reason: string) => {
    if (best.level === null || rank(level) > rank(best.level)) best = { level, reason };
  };
  for (const r of roles) {
    const applies = r.scopeType === 'service' ? r.scopeId === host.serviceId : r.scopeId === host.projectId;
    if (!applies) continue;
    const level = roleDbLevel(r.role, host.state);
    better(
      level,
      `${user.username} is ${r.role} of ${r.scopeType} #${r.scopeId}: ${kind} ${level} on ${host.state} host ${host.hostname} by default`,
    );
  }
  for (const g of grants) {
    const level = grantLevel(g.right, kind);
    if (!level || !grantIsActive(g, now)) continue;
    const subject = g.subjectType === 'user' ? g.subjectId === user.id : user.departmentIds.includes(g.subjectId);
    const scope =
      g.scopeType === 'host'
        ? g.scopeId === host.id
        : g.scopeType === 'service'
          ? g.scopeId === host.serviceId
          : g.scopeId === host.projectId;
    if (subject && scope) better(level, `grant #${g.id}: ${g.right} on ${g.scopeType} #${g.scopeId}`);
  }
  return best;
}

/** Every kind's level (only the kinds with one). */
export function dbLevels(
  user: DecideUser,
  host: DecideHost,
  roles: readonly DecideRole[],
  grants: readonly DecideGrant[],
  now: Date = new Date(),
): Partial<Record<DbKind, DbLevel>> {
  const out: Partial<Record<DbKind, DbLevel>> = {};
  for (const kind of ['mariadb', 'redis'] as const) {
    const l = decideDb(user, host, kind, roles, grants, now).level;
    if (l) out[kind] = l;
  }
  return out;
}
