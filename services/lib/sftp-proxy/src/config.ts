// The SFTP proxy's variables, read by both doors (jmp-sftp and jmp-ssh's sftp subsystem).
import { z } from 'zod';
import { positiveInt, type ConfigOf } from '@jmp/runtime';
import type { Logger } from '@jmp/runtime/log';
import { createS3Client, recordingConfigSpec, S3Objects } from '@jmp/recording';
import { Staging } from './staging.js';

export const sftpProxyConfigSpec = {
  maxHandles: {
    env: 'JMP_SFTP_MAX_HANDLES',
    schema: positiveInt(256),
    help: 'open files and directories per SFTP session; more are refused with a status saying so',
  },
  maxInFlightMiB: {
    env: 'JMP_SFTP_MAX_INFLIGHT_MIB',
    schema: positiveInt(16),
    help: 'MiB of reads and writes per SFTP session waiting for the targets (OpenSSH sftp keeps 2 MiB in flight)',
  },
  targetIdleSeconds: {
    env: 'JMP_SFTP_TARGET_IDLE_SECONDS',
    schema: positiveInt(120),
    help: 'a target connection without open files or requests is closed after this many seconds',
  },
  spoolDir: {
    env: 'JMP_SFTP_SPOOL_DIR',
    schema: z.string().default('/var/lib/jmp/sftp-spool'),
    help: 'file-operation events jmp-api did not take yet, and markers of transfers in progress (kept across restarts)',
  },
  stagingBucket: {
    env: 'JMP_SFTP_STAGING_BUCKET',
    schema: z.string().min(1).optional(),
    help: 'S3 bucket of the staging area /~staging/ (endpoint, region and path style: the JMP_RECORDING_S3_* settings); unset: no staging area',
  },
  stagingPrefix: {
    env: 'JMP_SFTP_STAGING_PREFIX',
    schema: z.string().default('staging/'),
    help: "key prefix of the staging area; each person's files are under <prefix><user>/",
  },
  stagingLifetimeHours: {
    env: 'JMP_SFTP_STAGING_LIFETIME_HOURS',
    schema: positiveInt(24),
    help: 'a staged file older than this is no longer listed or opened, and is deleted by the hourly sweep (or add an S3 lifecycle rule on the prefix)',
  },
  stagingPartMiB: {
    env: 'JMP_SFTP_STAGING_PART_MIB',
    schema: positiveInt(8).pipe(z.number().min(5, 'must be at least 5 (S3 minimum part size)')),
    help: 'MiB per multipart piece of a staging upload (memory per upload in progress)',
  },
} as const;

/** The recording's S3 connection settings, which the staging area shares. */
export const stagingS3ConfigSpec = {
  s3Endpoint: recordingConfigSpec.s3Endpoint,
  s3Region: recordingConfigSpec.s3Region,
  s3ForcePathStyle: recordingConfigSpec.s3ForcePathStyle,
} as const;

export type SftpProxyConfig = ConfigOf<typeof sftpProxyConfigSpec>;

/** The per-session limits from the configuration. */
export function limitsOf(c: SftpProxyConfig): { maxHandles: number; maxBytesInFlight: number; targetIdleMs: number } {
  return {
    maxHandles: c.maxHandles,
    maxBytesInFlight: c.maxInFlightMiB * 1024 * 1024,
    targetIdleMs: c.targetIdleSeconds * 1000,
  };
}

/** The staging area, or undefined when no bucket is set. */
export function stagingOf(
  c: SftpProxyConfig,
  s3: { s3Endpoint?: string | undefined; s3Region: string; s3ForcePathStyle: boolean },
): Staging | undefined {
  if (!c.stagingBucket) return undefined;
  const client = createS3Client({ region: s3.s3Region, endpoint: s3.s3Endpoint, forcePathStyle: s3.s3ForcePathStyle });
  return new Staging({
    objects: new S3Objects(client, c.stagingBucket, c.stagingPartMiB * 1024 * 1024),
    prefix: c.stagingPrefix,
    lifetimeMs: c.stagingLifetimeHours * 3600_000,
  });
}

/** Deletes expired staged files now and every hour; every instance may run it (deleting twice is harmless). */
export function sweepStaging(staging: Staging, log: Logger, everyMs = 3600_000): () => void {
  const sweep = () =>
    staging.sweep().then(
      (n) => n && log.info({ deleted: n }, 'staging: expired files deleted'),
      (err: Error) => log.warn({ err: err.message }, 'staging: sweep failed; tried again later'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
