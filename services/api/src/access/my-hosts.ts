// The hosts a person may log in to (jmp-ssh's menu, the web console's "my
// hosts"): candidates from roles and grants in two indexed queries, then the
// same decide() as every PAM question, so the list never disagrees with it.
import type { MyHost } from '@jmp/contract/schemas/access';
import type { Db } from '../db/knex.js';
import { decide, type DecideGrant, type DecideRole } from './decide.js';
import { dbLevels } from './db-rights.js';
import { departmentChain, grantsInForce, toDecideGrant } from './rows.js';

export async function myHosts(
  db: Db,
  username: string,
  now = new Date(),
  failMode: 'deny' | 'allow' = 'deny',
): Promise<MyHost[] | null> {
  const user = await db('users').where({ username }).first('id', 'username', 'status', 'department_id');
  if (!user) return null;
  if (user.status !== 'active') return [];
  const departmentIds = await departmentChain(db, user.department_id ?? null);

  const [roleRows, grantRows] = await Promise.all([
    db('roles').where({ user_id: user.id }).select('scope_type', 'scope_id', 'role'),
    grantsInForce(db, now).where((q) => {
      q.where({ subject_type: 'user', subject_id: user.id });
      if (departmentIds.length)
        q.orWhere((w) => w.where('subject_type', 'department').whereIn('subject_id', departmentIds));
    }),
  ]);
  const roles: DecideRole[] = roleRows.map((r) => ({ scopeType: r.scope_type, scopeId: r.scope_id, role: r.role }));
  const grants: DecideGrant[] = grantRows.map(toDecideGrant);
  const ids = (scope: string) => [
    ...roles.filter((r) => r.scopeType === scope).map((r) => r.scopeId),
    ...grants.filter((g) => g.scopeType === scope).map((g) => g.scopeId),
  ];
  const [hostIds, serviceIds, projectIds] = [ids('host'), ids('service'), ids('project')];
  if (!hostIds.length && !serviceIds.length && !projectIds.length) return [];

  const hosts = await db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .leftJoin('projects as p', 'p.id', 's.project_id')
    .where((q) => {
      q.whereIn('h.id', hostIds).orWhereIn('h.service_id', serviceIds).orWhereIn('s.project_id', projectIds);
    })
    .orderBy('h.hostname')
    .select(
      'h.id',
      'h.hostname',
      'h.addresses',
      'h.state',
      'h.kind',
      'h.service_id',
      's.project_id',
      's.name as service_name',
      'p.name as project_name',
      'h.last_seen_at',
      'h.agent_status',
      db.raw('h.agent_public_key is not null as enrolled'),
    );
  const du = { id: user.id, username: user.username, status: 'active' as const, departmentIds };
  const out: MyHost[] = [];
  for (const h of hosts) {
    const dh = {
      id: h.id,
      hostname: h.hostname,
      state: h.state,
      serviceId: h.service_id,
      projectId: h.project_id,
      serviceName: h.service_name ?? undefined,
      projectName: h.project_name ?? undefined,
    };
    const login = decide(du, dh, 'login', roles, grants, now);
    if (!login.allow) continue;
    out.push({
      id: h.id,
      hostname: h.hostname,
      addresses: h.addresses,
      state: h.state,
      kind: h.kind,
      service: h.service_name,
      project: h.project_name,
      root: decide(du, dh, 'root', roles, grants, now).allow,
      reason: login.reason,
      databases: Object.entries(dbLevels(du, dh, roles, grants, now)).map(([kind, level]) => ({
        kind: kind as 'mariadb' | 'redis',
        level,
      })),
      agent: {
        enrolled: !!h.enrolled,
        lastSeenAt: h.last_seen_at ? new Date(h.last_seen_at).toISOString() : null,
        version: typeof h.agent_status?.version === 'string' ? h.agent_status.version : null,
        failMode,
      },
    });
  }
  return out;
}
