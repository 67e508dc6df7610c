// Query plumbing shared by the admin repositories: paging with a total, a
// case-insensitive substring filter, and loads that 404 with a sentence.
import type { Knex } from 'knex';
import { JmpError } from '@jmp/contract';

/** The database or a transaction on it: every repository function takes either. */
export type Tx = Knex | Knex.Transaction;

export interface Page {
  limit: number;
  offset: number;
}
export interface Paged<R> {
  items: R[];
  total: number;
  limit: number;
  offset: number;
}

/** Runs a filtered query for one page plus the total count. */
export async function paged<R>(query: Knex.QueryBuilder, page: Page, orderBy: string): Promise<Paged<R>> {
  const counted = await query.clone().clearSelect().clearOrder().count<{ n: string }[]>({ n: '*' });
  const rows: R[] = await query.orderBy(orderBy).limit(page.limit).offset(page.offset);
  return { items: rows, total: Number(counted[0]?.n ?? 0), limit: page.limit, offset: page.offset };
}

/** Case-insensitive substring match on any of the columns (no LIKE wildcards to escape). */
export function substring(qb: Knex.QueryBuilder, columns: string[], q: string | undefined): void {
  if (!q) return;
  qb.where((w) => {
    for (const c of columns) w.orWhereRaw(`strpos(lower(${c}::text), lower(?)) > 0`, [q]);
  });
}

const TABLES = {
  user: 'users',
  department: 'departments',
  project: 'projects',
  service: 'services',
  host: 'hosts',
} as const;
export type Kind = keyof typeof TABLES;

/** Checks that a row referenced from a body exists; 404 naming the field when it does not. */
export async function mustRef(db: Tx, kind: Kind, id: number | null | undefined, field: string): Promise<void> {
  if (id === null || id === undefined) return;
  const row = await db(TABLES[kind]).where({ id }).first('id');
  if (!row) throw new JmpError('not_found', `${field}: there is no ${kind} with id ${id}`, { field });
}

/** Loads a row by the id in the path, or throws 404 with a sentence. */
export async function mustGet<T>(db: Tx, table: string, id: number, what: string): Promise<T> {
  const row = await db(table).where({ id }).first();
  if (!row) throw new JmpError('not_found', `there is no ${what} with id ${id}`);
  return row as T;
}

/** Keeps only the columns whose value is given; an empty patch means "nothing to change". */
export function definedOnly(patch: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}
