// File operations through jmp-sftp (and jmp-ssh's sftp subsystem): one event
// per operation, sent to jmp-api in batches, kept in the audit store.
import { z } from 'zod';
import { Username } from './primitives.js';

export const FileTransferMode = z.enum(['full', 'download', 'none']);
export const FileOperationKind = z.enum([
  'download',
  'upload',
  'remove',
  'mkdir',
  'rmdir',
  'rename',
  'symlink',
  'setstat',
  'list',
]);
/** `incomplete`: the transfer was cut (the client, the target or jmp-sftp went away before the close). */
export const FileOperationResult = z.enum(['ok', 'failed', 'refused', 'incomplete']);

export const FileOperation = z.object({
  /** Chosen by the proxy; a batch sent twice (spool replay) is stored once. */
  id: z.string().uuid(),
  /** The sftp session (one per person and host) it belongs to; absent for refusals before a target login. */
  session: z.string().uuid().optional(),
  user: Username,
  /** A host name, or `~staging` for the person's staging area. */
  host: z.string().min(1).max(253),
  path: z.string().max(4096),
  /** rename and symlink: the second path. */
  path2: z.string().max(4096).optional(),
  operation: FileOperationKind,
  bytesRead: z.number().int().min(0),
  bytesWritten: z.number().int().min(0),
  durationMs: z.number().int().min(0),
  result: FileOperationResult,
  /** Status message of a refusal or failure. */
  message: z.string().max(512).optional(),
  /** Uploads written sequentially from offset 0: SHA-256 of every byte written, hex. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  at: z.iso.datetime({ offset: true }),
});
export const FileOperationBatch = z.object({ operations: z.array(FileOperation).min(1).max(500) });

/** What a service allows through file transfer on a host (JMP services.file_transfer). */
export const FileTransferPolicy = z.object({ host: z.string(), mode: FileTransferMode });

export const FileOperationView = FileOperation.omit({ session: true }).extend({
  session: z.string().nullable(),
  sha256: z.string().nullable(),
  path2: z.string().nullable(),
  message: z.string().nullable(),
});
export const FileOperationList = z.object({ items: z.array(FileOperationView), total: z.number() });
export const FileOperationQuery = z.object({
  user: Username.optional(),
  host: z.string().max(253).optional(),
  /** Operations whose path starts with this. */
  path: z.string().max(4096).optional(),
  session: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export type FileOperation = z.infer<typeof FileOperation>;
export type FileTransferMode = z.infer<typeof FileTransferMode>;
