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

export const recordingConfigSpec = {
  dir: ['JMP_RECORDING_DIR', z.string().min(1).default(d.dir)],
  recordInput: ['JMP_RECORDING_INPUT', bool(d.recordInput)],
  flushMs: ['JMP_RECORDING_FLUSH_MS', positiveInt(d.flushMs).pipe(z.number().max(1000, 'must be at most 1000 (the crash promise is 1 s)'))],
  flushBytes: ['JMP_RECORDING_FLUSH_BYTES', positiveInt(d.flushBytes)],
  partBytes: ['JMP_RECORDING_PART_BYTES', positiveInt(d.partBytes)],
  maxBytes: ['JMP_RECORDING_MAX_BYTES', positiveInt(d.maxBytes)],
  maxBacklogBytes: ['JMP_RECORDING_MAX_BACKLOG_BYTES', positiveInt(d.maxBacklogBytes)],
  gzipLevel: ['JMP_RECORDING_GZIP_LEVEL', z.coerce.number().int().min(1).max(9).default(d.gzipLevel)],
  fsync: ['JMP_RECORDING_FSYNC', bool(d.fsync)],
  s3Bucket: ['JMP_RECORDING_S3_BUCKET', optional()],
  s3Prefix: ['JMP_RECORDING_S3_PREFIX', z.string().default(d.s3Prefix)],
  s3Endpoint: ['JMP_RECORDING_S3_ENDPOINT', z.string().url({ message: 'must be a URL' }).optional()],
  s3Region: ['JMP_RECORDING_S3_REGION', z.string().min(1).default(d.s3Region)],
  s3ForcePathStyle: ['JMP_RECORDING_S3_FORCE_PATH_STYLE', bool(d.s3ForcePathStyle)],
  s3UploadPartBytes: ['JMP_RECORDING_S3_UPLOAD_PART_BYTES', positiveInt(d.s3UploadPartBytes).pipe(z.number().min(5 * MiB, 'must be at least 5 MiB (S3 minimum part size)'))],
  spoolDir: ['JMP_RECORDING_SPOOL_DIR', z.string().min(1).default(d.spoolDir)],
} as const;

/** For jmp-ssh's --help. */
export const RECORDING_USAGE = `  JMP_RECORDING_DIR                 recordings on local disk (/var/lib/jmp/recordings)
  JMP_RECORDING_INPUT               also record keystrokes; they include passwords (false)
  JMP_RECORDING_FLUSH_MS            at most this much recording is lost on a crash (1000)
  JMP_RECORDING_PART_BYTES          compressed size of one part file (67108864)
  JMP_RECORDING_MAX_BYTES           recording of a session stops at this size (1073741824)
  JMP_RECORDING_S3_BUCKET           store recordings in this S3 bucket instead of JMP_RECORDING_DIR
  JMP_RECORDING_S3_PREFIX, _ENDPOINT, _REGION, _FORCE_PATH_STYLE   (recordings/, AWS, us-east-1, false)
  JMP_RECORDING_SPOOL_DIR           local spool for S3 uploads, one per process (/var/lib/jmp/recordings-spool)
`;
