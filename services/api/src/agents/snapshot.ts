// The policy snapshot a host's agent caches: who may log in (NSS entries) and
// who may become root, decided by the same decide() as online questions.
import type { PolicySnapshot } from '@jmp/contract/schemas/agents';
import type { Db } from '../db/knex.js';
import { decide, type DecideGrant, type DecideRole } from '../access/decide.js';
import { dbLevels } from '../access/db-rights.js';
import { grantsInForce, toDecideGrant } from '../access/rows.js';
import type { TicketKeys } from '../tickets/keys.js';
import { createHash } from 'node:crypto';

/** Every jmp user on a host is in this group; /etc/sudoers.d/jmp lets it reach PAM. */
export const JMP_USERS_GROUP = { name: 'jmp-users', gid: 199999 };

export type HostSnapshot = Omit<PolicySnapshot, 'generatedAt'>;

export async function buildSnapshot(
  db: Db,
  hostId: number,
  keys: TicketKeys,
  noSnapshot: 'deny' | 'allow',
  now = new Date(),
): Promise<HostSnapshot | null> {
  return (await buildTimedSnapshot(db, hostId, keys, noSnapshot, now))?.snapshot ?? null;
}

/**
 * The snapshot and when time alone will change it (the next start or end of a
 * grant it considered; null: never). Until then only a write, which bumps the
 * policy version, can change it.
 */
export async function buildTimedSnapshot(
  db: Db,
  hostId: number,
  keys: TicketKeys,
  noSnapshot: 'deny' | 'allow',
  now = new Date(),
): Promise<{ snapshot: HostSnapshot; changesAt: Date | null } | null> {
  const host = await db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .leftJoin('projects as p', 'p.id', 's.project_id')
    .where('h.id', hostId)
    .first(
      'h.id',
      'h.hostname',
      'h.state',
      'h.service_id',
      's.project_id',
      's.name as service_name',
      'p.name as project_name',
    );
  if (!host) return null;
  const scopes = {
    host: host.id as number,
    service: host.service_id as number | null,
    project: host.project_id as number | null,
  };

  const [roleRows, grantRows, departments] = await Promise.all([
    db('roles')
      .where((q) => {
        q.where({ scope_type: 'service', scope_id: scopes.service ?? -1 }).orWhere({
          scope_type: 'project',
          scope_id: scopes.project ?? -1,
        });
      })
      .select('user_id', 'scope_type', 'scope_id', 'role'),
    grantsInForce(db, now).where((q) => {
      q.where({ scope_type: 'host', scope_id: scopes.host })
        .orWhere({ scope_type: 'service', scope_id: scopes.service ?? -1 })
        .orWhere({ scope_type: 'project', scope_id: scopes.project ?? -1 });
    }),
    db('departments').select('id', 'parent_id'),
  ]);

  // Department tree in memory: ancestors of each department, and descendants of granted ones.
  const parent = new Map<number, number | null>(departments.map((d) => [d.id, d.parent_id]));
  const ancestors = (id: number | null): number[] => {
    const out: number[] = [];
    for (let cur = id, n = 0; cur !== null && cur !== undefined && n < 32; cur = parent.get(cur) ?? null, n++)
      out.push(cur);
    return out;
  };
  const grantedDepts = new Set(
    grantRows.filter((g) => g.subject_type === 'department').map((g) => g.subject_id as number),
  );
  const deptsInScope = departments
    .filter((d) => ancestors(d.id).some((a) => grantedDepts.has(a)))
    .map((d) => d.id as number);

  const userIds = new Set<number>([
    ...roleRows.map((r) => r.user_id as number),
    ...grantRows.filter((g) => g.subject_type === 'user').map((g) => g.subject_id as number),
  ]);
  const users = await db('users')
    .where('status', 'active')
    .where((q) => {
      q.whereIn('id', [...userIds]);
      if (deptsInScope.length) q.orWhereIn('department_id', deptsInScope);
    })
    .select('id', 'username', 'uid', 'display_name', 'department_id', 'shell')
    .orderBy('username');

  // Grants by subject, so each user's decision sees only their own and their departments'.
  const grantsBySubject = new Map<string, DecideGrant[]>();
  for (const g of grantRows) {
    const key = `${g.subject_type}:${g.subject_id}`;
    const list = grantsBySubject.get(key) ?? [];
    list.push(toDecideGrant(g));
    grantsBySubject.set(key, list);
  }
  const grantsOf = (userId: number, departmentIds: number[]): DecideGrant[] =>
    [`user:${userId}`, ...departmentIds.map((d) => `department:${d}`)].flatMap((k) => grantsBySubject.get(k) ?? []);
  const rolesByUser = new Map<number, DecideRole[]>();
  for (const r of roleRows) {
    const list = rolesByUser.get(r.user_id) ?? [];
    list.push({ scopeType: r.scope_type, scopeId: r.scope_id, role: r.role });
    rolesByUser.set(r.user_id, list);
  }
  const dHost = {
    id: host.id,
    hostname: host.hostname,
    state: host.state,
    serviceId: host.service_id,
    projectId: host.project_id,
    serviceName: host.service_name,
    projectName: host.project_name,
  };

  const out: PolicySnapshot['users'] = [];
  for (const u of users) {
    const du = { id: u.id, username: u.username, status: 'active' as const, departmentIds: ancestors(u.department_id) };
    const roles = rolesByUser.get(u.id) ?? [];
    const grants = grantsOf(u.id, du.departmentIds);
    const login = decide(du, dHost, 'login', roles, grants, now).allow;
    if (!login) continue;
    const db = dbLevels(du, dHost, roles, grants, now);
    out.push({
      username: u.username,
      uid: u.uid,
      gid: u.uid,
      gecos: sanitizeGecos(u.display_name),
      home: `/home/${u.username}`,
      shell: u.shell,
      groups: [JMP_USERS_GROUP.name],
      login,
      root: decide(du, dHost, 'root', roles, grants, now).allow,
      ...(Object.keys(db).length ? { db } : {}),
    });
  }
  let changesAt: number | null = null;
  for (const g of grantRows) {
    for (const t of [g.valid_from, g.valid_until]) {
      const ms = t ? new Date(t).getTime() : NaN;
      if (ms > now.getTime() && (changesAt === null || ms < changesAt)) changesAt = ms;
    }
  }
  const snapshot: HostSnapshot = {
    version: 1,
    host: { id: host.id, hostname: host.hostname, state: host.state },
    users: out,
    groups: [{ ...JMP_USERS_GROUP, members: out.map((u) => u.username) }],
    ticketKeys: await keys.published(),
    failPolicy: { noSnapshot },
  };
  return { snapshot, changesAt: changesAt === null ? null : new Date(changesAt) };
}

/** passwd(5) fields cannot hold ':' or newlines. */
function sanitizeGecos(s: string): string {
  return s.replace(/[:\n\r\0]/g, ' ').slice(0, 128);
}

export function snapshotEtag(s: HostSnapshot): string {
  return `"${createHash('sha256').update(JSON.stringify(s)).digest('base64url').slice(0, 32)}"`;
}
