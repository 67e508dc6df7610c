// jmp-ssh's variables: the specs are the configuration's type, its --help and the README table.
import { z } from 'zod';
import { bool, logLevelEntry, port, positiveInt, url, type ConfigOf } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { trustedPeers } from '@jmp/runtime/proxy-protocol';
import { recordingConfigSpec, type RecordingConfig } from '@jmp/recording';
import { sftpProxyConfigSpec } from '@jmp/sftp-proxy';

/**
 * People's sessions last hours; a restart waits this long for them to end
 * before closing them (systemd's TimeoutStopSec is above it).
 */
export const SSH_DRAIN_SECONDS = 300;

export const sshConfigSpec = {
  host: { env: 'JMP_SSH_HOST', schema: z.string().default('0.0.0.0'), help: 'listen address' },
  port: { env: 'JMP_SSH_PORT', schema: port(2200), help: 'listen port' },
  apiUrl: { env: 'JMP_API_URL', schema: url().default('http://127.0.0.1:8080'), help: 'jmp-api base URL' },
  serviceToken: {
    env: 'JMP_SERVICE_TOKEN',
    schema: z.string().min(20, 'must be the token printed by `jmp-api service-token ssh`'),
    help: 'token from `jmp-api service-token ssh`',
  },
  hostKeyPath: {
    env: 'JMP_SSH_HOST_KEY',
    schema: z.string().default('/var/lib/jmp/ssh_host_ed25519_key'),
    help: 'host key file, created on first start; share it between instances',
  },
  idleTimeoutSeconds: {
    env: 'JMP_SSH_IDLE_TIMEOUT_SECONDS',
    schema: positiveInt(1800),
    help: 'idle sessions are closed after this many seconds',
  },
  maxSessionsPerUser: {
    env: 'JMP_SSH_MAX_SESSIONS_PER_USER',
    schema: positiveInt(10),
    help: 'open sessions per person',
  },
  maxConnections: { env: 'JMP_SSH_MAX_CONNECTIONS', schema: positiveInt(2000), help: 'connections per process' },
  targetPort: { env: 'JMP_SSH_TARGET_PORT', schema: port(22), help: 'sshd port on targets' },
  dbCommand: {
    env: 'JMP_SSH_DB_COMMAND',
    schema: z.string().min(1).optional(),
    help: 'command run on a target for a database terminal, followed by mariadb or redis (unset: jmp-agent db)',
  },
  guardFailOpen: {
    env: 'JMP_SSH_GUARD_FAIL_OPEN',
    schema: bool(false),
    help:
      "when a host's command rules cannot be loaded, let sessions in unchecked (their lines stored as skipped) " +
      'instead of refusing them',
  },
  logLevel: logLevelEntry(),
} as const;

/** Comma-separated addresses and CIDR blocks; each must parse. */
const addressList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e !== ''),
    )
    .superRefine((list, ctx) => {
      try {
        trustedPeers(list);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });

/** The PROXY protocol from the L4 balancer (nginx `proxy_protocol on;`): see createSshListener. */
export const sshProxyConfigSpec = {
  proxyProtocol: {
    env: 'JMP_SSH_PROXY_PROTOCOL',
    schema: bool(false),
    help:
      '`on`: every connection starts with a PROXY protocol header (v1 or v2) from the L4 balancer (nginx ' +
      '`proxy_protocol on;`), whose client address is the one logged and recorded',
  },
  proxyTrusted: {
    env: 'JMP_SSH_PROXY_TRUSTED',
    schema: addressList(),
    help:
      'the balancers allowed to send it: comma-separated addresses or CIDRs; when on, other peers are refused, ' +
      "and a balancer's connection without a valid header is closed",
    unset: 'required when `JMP_SSH_PROXY_PROTOCOL` is on',
  },
} as const;

/** Network devices (DESIGN flow 10): the key that opens their sealed secrets. */
export const sshDeviceConfigSpec = {
  deviceKeyPath: {
    env: 'JMP_DEVICE_KEY',
    schema: z.string().default('/var/lib/jmp/device_key'),
    help:
      'device-secrets key (X25519) that opens network device secrets, created on first start and registered with ' +
      'jmp-api; share it between instances',
  },
} as const;

/**
 * What the SSH server runs with: jmp-ssh's own variables, and the recorder's
 * (loaded from recordingConfigSpec; tests give only the paths they change).
 */
export type SshConfig = ConfigOf<typeof sshConfigSpec> & {
  recording: Partial<RecordingConfig>;
  /** Unset: the jump shell offers no network devices. */
  deviceKeyPath?: string;
};

/** Every variable jmp-ssh reads, in the order of --help and the README. */
export const sshConfigSpecs = [
  sshConfigSpec,
  sshProxyConfigSpec,
  sshDeviceConfigSpec,
  drainConfigSpec(SSH_DRAIN_SECONDS),
  recordingConfigSpec,
  sftpProxyConfigSpec,
] as const;
