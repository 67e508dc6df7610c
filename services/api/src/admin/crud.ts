// Plumbing shared by the admin resources: auth for readers, pages mapped to
// views, audit inside the write's transaction, and Postgres constraint errors
// turned into sentences. The queries are in repository/.
import type { Knex } from 'knex';
import type { Request } from 'express';
import { JmpError } from '@jmp/contract';
import type { Ctx } from '../context.js';
import type { AuthRules, Principal } from '../http/auth.js';
import { actorOf } from '../http/auth.js';
import type { AuthRule } from '../http/routes.js';
import { appendAudit } from '../audit/audit.js';
import type { Paged, Tx } from './repository/common.js';

export type { Tx };

/**
 * Reads of the admin resources: administrators, the admin service token, and
 * auditors (read-only; they need names and ids to make sense of the audit log).
 */
export function readers(auth: AuthRules): AuthRule {
  const admin = auth.admin();
  const auditor = auth.user({ auditor: true });
  return async (req: Request): Promise<Principal> => {
    try {
      return await admin(req);
    } catch (err) {
      if (err instanceof JmpError && (err.code === 'forbidden' || err.code === 'unauthorized')) return auditor(req);
      throw err;
    }
  };
}

export const badField = (field: string, message: string): JmpError =>
  new JmpError('bad_request', `${field}: ${message}`, { field });

/** The user id of the caller when it is a person, for created_by columns. */
export const userIdOf = (p: Principal): number | null => (p.kind === 'user' ? p.user.id : null);

/** Maps the rows of a page to what the API returns. */
export function mapPage<R, T>(
  p: Paged<R>,
  map: (row: R) => T,
): { items: T[]; total: number; limit: number; offset: number } {
  return { items: p.items.map(map), total: p.total, limit: p.limit, offset: p.offset };
}

/** Appends an audit event; within a transaction it commits or rolls back with the write. */
export async function audit(
  db: Tx,
  principal: Principal,
  action: string,
  target: string,
  data: Record<string, unknown> = {},
): Promise<void> {
  await appendAudit(db as Knex, { actor: actorOf(principal), action, target, data });
}

export const iso = (d: Date | string | null | undefined): string | null =>
  d == null ? null : new Date(d).toISOString();
export const isoNN = (d: Date | string): string => new Date(d).toISOString();

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

export interface ConstraintHints {
  /** constraint name → [field, sentence] for unique and check violations. */
  [constraint: string]: [string, string];
}

/**
 * Runs a write in a transaction and turns Postgres constraint errors into
 * JmpErrors: unique → 409 naming the field, foreign key → 409 (still referenced)
 * or 400 (missing reference), check → 400.
 */
export async function write<T>(
  ctx: Ctx,
  hints: ConstraintHints,
  fn: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  try {
    return await ctx.db.transaction(fn);
  } catch (err) {
    throw translate(err, hints);
  }
}

export function translate(err: unknown, hints: ConstraintHints = {}): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string; table?: string };
  if (!e || typeof e.code !== 'string' || err instanceof JmpError) return err;
  const hint = e.constraint ? hints[e.constraint] : undefined;
  if (e.code === '23505') {
    const m = /^Key \((.+?)\)=\((.*)\) already exists/.exec(e.detail ?? '');
    const cols = m ? m[1]!.split(', ') : [];
    const field = hint?.[0] ?? `body.${camel(cols[cols.length - 1] ?? 'id')}`;
    return new JmpError(
      'conflict',
      hint ? `${field}: ${hint[1]}` : `${field}: ${m ? `${m[1]} = ${m[2]}` : 'this value'} is already taken`,
      { field },
    );
  }
  if (e.code === '23503') {
    if (hint) return new JmpError('conflict', hint[1], { field: hint[0] });
    // "is still referenced from table X" on delete/update of the parent; "is not present" on insert.
    const still = /is still referenced from table "(\w+)"/.exec(e.detail ?? '');
    if (still) return new JmpError('conflict', `it is still referenced by ${still[1]}; remove those first`);
    const m = /^Key \((\w+)\)=\((.*)\) is not present/.exec(e.detail ?? '');
    const field = m ? `body.${camel(m[1]!)}` : 'body';
    return new JmpError('bad_request', `${field}: refers to a row that does not exist${m ? ` (${m[2]})` : ''}`, {
      field,
    });
  }
  if (e.code === '23514') {
    if (hint) return new JmpError('bad_request', `${hint[0]}: ${hint[1]}`, { field: hint[0] });
    return new JmpError('bad_request', `body: violates the rule ${e.constraint ?? 'of the data model'}`);
  }
  return err;
}
