import { z } from 'zod';
import { bool, logLevel, port, positiveInt, url } from '@jmp/runtime';
import { trustedPeers } from '@jmp/runtime/proxy-protocol';

export const sshConfigSpec = {
  host: ['JMP_SSH_HOST', z.string().default('0.0.0.0')],
  port: ['JMP_SSH_PORT', port(2200)],
  apiUrl: ['JMP_API_URL', url().default('http://127.0.0.1:8080')],
  serviceToken: ['JMP_SERVICE_TOKEN', z.string().min(20, 'must be the token printed by `jmp-api service-token ssh`')],
  hostKeyPath: ['JMP_SSH_HOST_KEY', z.string().default('/var/lib/jmp/ssh_host_ed25519_key')],
  idleTimeoutSeconds: ['JMP_SSH_IDLE_TIMEOUT_SECONDS', positiveInt(1800)],
  maxSessionsPerUser: ['JMP_SSH_MAX_SESSIONS_PER_USER', positiveInt(10)],
  maxConnections: ['JMP_SSH_MAX_CONNECTIONS', positiveInt(2000)],
  targetPort: ['JMP_SSH_TARGET_PORT', port(22)],
  guardFailOpen: ['JMP_SSH_GUARD_FAIL_OPEN', bool(false)],
  logLevel: ['JMP_LOG_LEVEL', logLevel()],
} as const;

/** Comma-separated addresses and CIDR blocks; each must parse. */
const addressList = () => z.string().default('')
  .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
  .superRefine((list, ctx) => {
    try { trustedPeers(list); } catch (err) { ctx.addIssue({ code: 'custom', message: (err as Error).message }); }
  });

/** The PROXY protocol from the L4 balancer (nginx `proxy_protocol on;`): see createSshListener. */
export const sshProxyConfigSpec = {
  proxyProtocol: ['JMP_SSH_PROXY_PROTOCOL', bool(false)],
  proxyTrusted: ['JMP_SSH_PROXY_TRUSTED', addressList()],
} as const;

import type { RecordingConfig } from '@jmp/recording';

export interface SshConfig {
  host: string; port: number; apiUrl: string; serviceToken: string; hostKeyPath: string;
  idleTimeoutSeconds: number; maxSessionsPerUser: number; maxConnections: number; targetPort: number; logLevel: string;
  recording: Partial<RecordingConfig>;
  /** When a host's guard rules cannot be loaded: true lets sessions in, their lines stored as skipped; default refuses. */
  guardFailOpen?: boolean;
}
