// Knex queries for command rules. Patterns are checked (RE2) before they get here.
import type { contract as c } from '@jmp/contract';
import { mustGet, paged, substring, type Page, type Paged, type Tx } from './common.js';

export interface RuleRow {
  id: number;
  name: string;
  pattern: string;
  action: 'alert' | 'block';
  severity: c.CommandRule['severity'];
  list: 'deny' | 'allow';
  scope_type: 'global' | 'project' | 'service';
  scope_id: number | null;
  enabled: boolean;
  created_at: Date;
}

export interface RuleFilter extends Page {
  q?: string | undefined;
  scopeType?: string | undefined;
  scopeId?: number | undefined;
  enabled?: boolean | undefined;
  action?: string | undefined;
}

export async function listRules(db: Tx, f: RuleFilter): Promise<Paged<RuleRow>> {
  const qb = db('command_rules').select('*');
  substring(qb, ['name', 'pattern'], f.q);
  if (f.scopeType) qb.where({ scope_type: f.scopeType });
  if (f.scopeId) qb.where({ scope_id: f.scopeId });
  if (f.enabled !== undefined) qb.where({ enabled: f.enabled });
  if (f.action) qb.where({ action: f.action });
  return paged(qb, f, 'id');
}

export const getRule = (db: Tx, id: number): Promise<RuleRow> =>
  mustGet<RuleRow>(db, 'command_rules', id, 'command rule');

export interface NewRule {
  name: string;
  pattern: string;
  action: string;
  severity: string;
  list: string;
  scopeType: string;
  scopeId: number | null;
  enabled: boolean;
}

export async function insertRule(db: Tx, r: NewRule): Promise<RuleRow> {
  const [row] = await db('command_rules')
    .insert({
      name: r.name,
      pattern: r.pattern,
      action: r.action,
      severity: r.severity,
      list: r.list,
      scope_type: r.scopeType,
      scope_id: r.scopeId,
      enabled: r.enabled,
    })
    .returning('*');
  return row as RuleRow;
}

export type RuleChanges = Partial<Pick<NewRule, 'name' | 'pattern' | 'action' | 'severity' | 'list' | 'enabled'>> & {
  scopeType: string;
  scopeId: number | null;
};

/** Writes the scope and whichever of the other fields are given. */
export async function updateRule(db: Tx, id: number, c: RuleChanges): Promise<RuleRow> {
  const patch: Record<string, unknown> = { scope_type: c.scopeType, scope_id: c.scopeId };
  for (const k of ['name', 'pattern', 'action', 'severity', 'list', 'enabled'] as const)
    if (c[k] !== undefined) patch[k] = c[k];
  const [row] = await db('command_rules').where({ id }).update(patch).returning('*');
  return row as RuleRow;
}

export async function deleteRule(db: Tx, id: number): Promise<void> {
  await db('command_rules').where({ id }).delete();
}
