// Reading the access model's rows for decide(): the department chain and the
// grants in force, shared by "my hosts", policy snapshots and requests.
import type { Knex } from 'knex';
import type { DecideGrant } from './decide.js';

/** The department and every ancestor of it, nearest first (bounded, so a cycle cannot loop). */
export async function departmentChain(db: Knex, departmentId: number | null): Promise<number[]> {
  if (departmentId === null) return [];
  const { rows } = await db.raw(
    `WITH RECURSIVE c(id, parent_id, depth) AS (
       SELECT id, parent_id, 0 FROM departments WHERE id = ?
       UNION ALL
       SELECT d.id, d.parent_id, c.depth + 1 FROM departments d JOIN c ON d.id = c.parent_id WHERE c.depth < 64
     ) SELECT id FROM c ORDER BY depth`,
    [departmentId],
  );
  return (rows as Array<{ id: number }>).map((r) => r.id);
}

export interface GrantRow {
  id: number;
  subject_type: string;
  subject_id: number;
  scope_type: string;
  scope_id: number;
  right: string;
  valid_from: Date | string;
  valid_until: Date | string | null;
}

/** Grants not revoked and not yet expired at `now`; narrow further with where(). */
export function grantsInForce(db: Knex, now: Date): Knex.QueryBuilder<GrantRow, GrantRow[]> {
  return db('grants')
    .whereNull('revoked_at')
    .where((q) => q.whereNull('valid_until').orWhere('valid_until', '>', now))
    .select('id', 'subject_type', 'subject_id', 'scope_type', 'scope_id', 'right', 'valid_from', 'valid_until');
}

export function toDecideGrant(g: GrantRow): DecideGrant {
  return {
    id: g.id,
    subjectType: g.subject_type as DecideGrant['subjectType'],
    subjectId: g.subject_id,
    scopeType: g.scope_type as DecideGrant['scopeType'],
    scopeId: g.scope_id,
    right: g.right as DecideGrant['right'],
    validFrom: new Date(g.valid_from),
    validUntil: g.valid_until ? new Date(g.valid_until) : null,
  };
}
