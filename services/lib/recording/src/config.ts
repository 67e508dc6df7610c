// Recording configuration: environment variables (merge `recordingConfigSpec`
// into jmp-ssh's spec) and the same values as a plain object with defaults.
import { z } from 'zod';
import { bool, positiveInt } from '@jmp/runtime/config';

const MiB = 1024 * 1024;

export interface RecordingConfig {
  /** Local store directory (also used when S3 is off). */
  dir: string;
  /** Record the person's keystrokes as "i" events. Off: they include passwords typed with echo off. */
  recordInput: boolean;
  /** Longest time an event waits in memory before it is compressed and stored (ms). */
  flushMs: number;
  /** Flush early once this much event text is waiting (bytes). */
  flushBytes: number;
  /** Compressed size at which a part is closed and the next one begun. */
  partBytes: number;
  /** Compressed size at which recording of a session stops (the session goes on). */
  maxBytes: number;
  /** Event text allowed to wait for a slow store before output is dropped (with a marker). */
  maxBacklogBytes: number;
  /** gzip level 1 (fast) … 9 (small). 3: about twice as fast as 6 on terminal output, ~15 % larger. */
  gzipLevel: number;
  /** fdatasync every flush (local files and the S3 spool). */
  fsync: boolean;
  /** S3 is used when a bucket is set. */
  s3Bucket: string | undefined;
  s3Prefix: string;
  s3Endpoint: string | undefined;
  s3Region: string;
  s3ForcePathStyle: boolean;
  s3UploadPartBytes: number;
  /** Local spool for the S3 store (one per process). */
  spoolDir: string;
}

export const recordingDefaults: RecordingConfig = {
  dir: '/var/lib/jmp/recordings',
  recordInput: false,
  flushMs: 1000,
  flushBytes: 256 * 1024,
  partBytes: 64 * MiB,
  maxBytes: 1024 * MiB,
  maxBacklogBytes: 16 * MiB,
  gzipLevel: 3,
  fsync: true,
  s3Bucket: undefined,
  s3Prefix: 'recordings/',
  s3Endpoint: undefined,
  s3Region: 'us-east-1',
  s3ForcePathStyle: false,
  s3UploadPartBytes: 8 * MiB,
  spoolDir: '/var/lib/jmp/recordings-spool',
};

const d = recordingDefaults;
const optional = () => z.string().min(1).optional();

const MAX_FLUSH_MS = 'must be at most 1000 (the crash promise is 1 s)';
const MIN_S3_PART = 'must be at least 5 MiB (S3 minimum part size)';

export const recordingConfigSpec = {
  dir: { env: 'JMP_RECORDING_DIR', schema: z.string().min(1).default(d.dir), help: 'recordings on local disk' },
  recordInput: {
    env: 'JMP_RECORDING_INPUT',
    schema: bool(d.recordInput),
    help: 'also record keystrokes; they include passwords typed with echo off',
  },
  flushMs: {
    env: 'JMP_RECORDING_FLUSH_MS',
    schema: positiveInt(d.flushMs).pipe(z.number().max(1000, MAX_FLUSH_MS)),
    help: 'at most this much recording (ms, ≤ 1000) is lost on a crash',
  },
  flushBytes: {
    env: 'JMP_RECORDING_FLUSH_BYTES',
    schema: positiveInt(d.flushBytes),
    help: 'flush early once this much event text is waiting (bytes)',
  },
  partBytes: {
    env: 'JMP_RECORDING_PART_BYTES',
    schema: positiveInt(d.partBytes),
    help: 'compressed size of one part file (bytes)',
  },
  maxBytes: {
    env: 'JMP_RECORDING_MAX_BYTES',
    schema: positiveInt(d.maxBytes),
    help: 'recording of a session stops at this compressed size (bytes); the session goes on',
  },
  maxBacklogBytes: {
    env: 'JMP_RECORDING_MAX_BACKLOG_BYTES',
    schema: positiveInt(d.maxBacklogBytes),
    help: 'event text allowed to wait for a slow store before output is dropped, with a marker (bytes)',
  },
  gzipLevel: {
    env: 'JMP_RECORDING_GZIP_LEVEL',
    schema: z.coerce.number().int().min(1).max(9).default(d.gzipLevel),
    help: 'gzip level, 1 (fast) … 9 (small)',
  },
  fsync: {
    env: 'JMP_RECORDING_FSYNC',
    schema: bool(d.fsync),
    help: 'fdatasync every flush (local files and the S3 spool)',
  },
  s3Bucket: {
    env: 'JMP_RECORDING_S3_BUCKET',
    schema: optional(),
    help: 'store recordings in this S3 bucket instead of `JMP_RECORDING_DIR`',
    unset: 'unset: local disk',
  },
  s3Prefix: {
    env: 'JMP_RECORDING_S3_PREFIX',
    schema: z.string().default(d.s3Prefix),
    help: 'key prefix in the bucket',
  },
  s3Endpoint: {
    env: 'JMP_RECORDING_S3_ENDPOINT',
    schema: z.string().url({ message: 'must be a URL' }).optional(),
    help: 'S3 endpoint URL (MinIO, Ceph, …)',
    unset: 'unset: AWS',
  },
  s3Region: { env: 'JMP_RECORDING_S3_REGION', schema: z.string().min(1).default(d.s3Region), help: 'S3 region' },
  s3ForcePathStyle: {
    env: 'JMP_RECORDING_S3_FORCE_PATH_STYLE',
    schema: bool(d.s3ForcePathStyle),
    help: 'path-style S3 URLs (most stores other than AWS)',
  },
  s3UploadPartBytes: {
    env: 'JMP_RECORDING_S3_UPLOAD_PART_BYTES',
    schema: positiveInt(d.s3UploadPartBytes).pipe(z.number().min(5 * MiB, MIN_S3_PART)),
    help: 'part size of multipart uploads (bytes, ≥ 5 MiB)',
  },
  spoolDir: {
    env: 'JMP_RECORDING_SPOOL_DIR',
    schema: z.string().min(1).default(d.spoolDir),
    help: 'local spool for S3 uploads, one per process',
  },
} as const;
