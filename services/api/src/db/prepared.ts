// Named prepared statements for the hot path: Postgres plans them once per
// connection instead of on every call (the decision query plans in ~6 ms and
// runs in well under that).
import type { Db } from './knex.js';

interface PgConn {
  query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

export async function preparedQuery<T = Record<string, unknown>>(
  db: Db,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const conn = (await db.client.acquireConnection()) as PgConn;
  try {
    return (await conn.query({ name, text, values })).rows as T[];
  } finally {
    await db.client.releaseConnection(conn);
  }
}
