// Knex queries for self-service: the person's roles and the grants in force
// for her or her departments, each with the name of what it is on. No rules
// here: rights.ts words them.
import type { Knex } from 'knex';
import { departmentChain, grantsInForce } from '../access/rows.js';
import type { GrantRow } from '../admin/repository/grants.js';

export interface ScopedRole {
  scope_type: 'project' | 'service';
  scope_id: number;
  role: 'owner' | 'ops';
  ops_lead: boolean;
}
/** The columns of a grant that say what it gives and where it comes from. */
export type ScopedGrant = Pick<
  GrantRow,
  'id' | 'subject_type' | 'subject_id' | 'scope_type' | 'scope_id' | 'right' | 'request_id'
> & { valid_until: Date | string | null };

export async function rolesOf(db: Knex, userId: number): Promise<ScopedRole[]> {
  return (await db('roles')
    .where({ user_id: userId })
    .orderBy('id')
    .select('scope_type', 'scope_id', 'role', 'ops_lead')) as ScopedRole[];
}

/** Grants in force at `now` for the person or a department she belongs to (with its ancestors). */
export async function grantsOf(
  db: Knex,
  userId: number,
  departmentId: number | null,
  now: Date,
): Promise<ScopedGrant[]> {
  const departments = await departmentChain(db, departmentId);
  return (await grantsInForce(db, now)
    .where((q) => {
      q.where({ subject_type: 'user', subject_id: userId });
      if (departments.length)
        q.orWhere((w) => w.where('subject_type', 'department').whereIn('subject_id', departments));
    })
    .select('request_id')
    .orderBy('id')) as ScopedGrant[];
}

/** "shop/web" for a service, "shop" for a project, the host name for a host; by type and id. */
export async function scopeNames(
  db: Knex,
  scopes: Array<{ scope_type: string; scope_id: number }>,
): Promise<Map<string, string>> {
  const ids = (t: string) => [...new Set(scopes.filter((s) => s.scope_type === t).map((s) => s.scope_id))];
  const [hosts, services, projects] = await Promise.all([
    ids('host').length ? db('hosts').whereIn('id', ids('host')).select('id', 'hostname as name') : [],
    ids('service').length
      ? db('services as s')
          .join('projects as p', 'p.id', 's.project_id')
          .whereIn('s.id', ids('service'))
          .select('s.id', db.raw("p.name || '/' || s.name as name"))
      : [],
    ids('project').length ? db('projects').whereIn('id', ids('project')).select('id', 'name') : [],
  ]);
  const out = new Map<string, string>();
  for (const [t, rows] of [
    ['host', hosts],
    ['service', services],
    ['project', projects],
  ] as const)
    for (const r of rows as Array<{ id: number; name: string }>) out.set(`${t}:${r.id}`, r.name);
  return out;
}

export async function departmentOf(db: Knex, userId: number): Promise<number | null> {
  const row = await db('users').where({ id: userId }).first('department_id');
  return (row?.department_id as number | null | undefined) ?? null;
}

export async function hasTotp(db: Knex, userId: number): Promise<boolean> {
  const row = await db('users').where({ id: userId }).first('totp_secret_enc');
  return row?.totp_secret_enc != null;
}

/** Sets the seed only while the person has none (two confirmations at once: one wins). */
export async function setTotpIfNone(db: Knex, userId: number, sealed: string): Promise<boolean> {
  return (
    (await db('users').where({ id: userId }).whereNull('totp_secret_enc').update({ totp_secret_enc: sealed })) === 1
  );
}
