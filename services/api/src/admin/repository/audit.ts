// Reads of the audit log (appendAudit in audit/audit.ts writes it).
import type { Tx } from './common.js';

export interface AuditRow {
  id: string | number;
  at: Date;
  actor: string;
  action: string;
  target: string;
  data: unknown;
}

export interface AuditFilter {
  /** An exact action, or a prefix when it ends in ".*" (e.g. "user.*"). */
  action?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
  offset: number;
}

/** Matching events, newest first. */
export async function searchAudit(db: Tx, f: AuditFilter): Promise<AuditRow[]> {
  const qb = db('audit_events').select('id', 'at', 'actor', 'action', 'target', 'data');
  if (f.action?.endsWith('.*')) qb.whereRaw('left(action, ?) = ?', [f.action.length - 1, f.action.slice(0, -1)]);
  else if (f.action) qb.where({ action: f.action });
  if (f.actor) qb.where({ actor: f.actor });
  if (f.target) qb.where({ target: f.target });
  if (f.since) qb.where('at', '>=', new Date(f.since));
  if (f.until) qb.where('at', '<', new Date(f.until));
  return qb.orderBy('id', 'desc').limit(f.limit).offset(f.offset);
}
