// The SFTP proxy's variables, read by both doors (jmp-sftp and jmp-ssh's sftp subsystem).
import { z } from 'zod';
import { positiveInt, type ConfigOf } from '@jmp/runtime';

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
