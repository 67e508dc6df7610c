// Knex queries for file operations and the per-service file transfer setting.
import type { Knex } from 'knex';
import type { z } from 'zod';
import type {
  FileOperation,
  FileOperationQuery,
  FileOperationView,
  FileTransferMode,
} from '@jmp/contract/schemas/files';

interface FileOperationRow {
  id: string;
  session_id: string | null;
  username: string;
  host: string;
  path: string;
  path2: string | null;
  operation: FileOperation['operation'];
  bytes_read: string | number;
  bytes_written: string | number;
  duration_ms: number;
  result: FileOperation['result'];
  message: string | null;
  sha256: string | null;
  at: Date;
}

/** Stores a batch; an operation already stored (a spooled batch sent again) is kept as it was. */
export async function insertOperations(db: Knex, ops: FileOperation[], knownSessions: Set<string>): Promise<void> {
  await db('file_operations')
    .insert(
      ops.map((o) => ({
        id: o.id,
        // An operation of a session jmp-api never heard of keeps its names, not a dangling reference.
        session_id: o.session && knownSessions.has(o.session) ? o.session : null,
        username: o.user,
        host: o.host,
        path: o.path,
        path2: o.path2 ?? null,
        operation: o.operation,
        bytes_read: o.bytesRead,
        bytes_written: o.bytesWritten,
        duration_ms: o.durationMs,
        result: o.result,
        message: o.message?.slice(0, 512) ?? null,
        sha256: o.sha256 ?? null,
        at: new Date(o.at),
      })),
    )
    .onConflict('id')
    .ignore();
}

export async function existingSessions(db: Knex, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows: Array<{ id: string }> = await db('sessions').whereIn('id', ids).select('id');
  return new Set(rows.map((r) => r.id));
}

export async function listOperations(
  db: Knex,
  q: z.infer<typeof FileOperationQuery>,
  onlyUser: string | undefined,
): Promise<{ total: number; items: Array<z.infer<typeof FileOperationView>> }> {
  const base = db('file_operations').where((w) => {
    if (onlyUser !== undefined) w.where('username', onlyUser);
    if (q.user) w.where('username', q.user);
    if (q.host) w.where('host', q.host);
    if (q.session) w.where('session_id', q.session);
    if (q.path) w.whereLike('path', `${q.path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  });
  const [count] = (await base.clone().count({ n: '*' })) as Array<{ n: string | number }>;
  const rows: FileOperationRow[] = await base
    .clone()
    .orderBy([
      { column: 'at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(q.limit)
    .offset(q.offset)
    .select('*');
  return {
    total: Number(count?.n ?? 0),
    items: rows.map((r) => ({
      id: r.id,
      session: r.session_id,
      user: r.username,
      host: r.host,
      path: r.path,
      path2: r.path2,
      operation: r.operation,
      bytesRead: Number(r.bytes_read),
      bytesWritten: Number(r.bytes_written),
      durationMs: r.duration_ms,
      result: r.result,
      message: r.message,
      sha256: r.sha256,
      at: new Date(r.at).toISOString(),
    })),
  };
}

/** The file transfer setting of a host's service; hosts outside a service allow everything their login allows. */
export async function transferMode(db: Knex, hostname: string): Promise<FileTransferMode | undefined> {
  const r: { file_transfer: FileTransferMode | null } | undefined = await db('hosts as h')
    .leftJoin('services as s', 's.id', 'h.service_id')
    .where('h.hostname', hostname)
    .first('s.file_transfer');
  return r ? (r.file_transfer ?? 'full') : undefined;
}
