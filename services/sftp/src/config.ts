// jmp-sftp's variables: the specs are the configuration's type, its --help and the README table.
import { z } from 'zod';
import { bool, logLevelEntry, port, positiveInt, url, type ConfigOf } from '@jmp/runtime';
import { drainConfigSpec } from '@jmp/runtime/drain';
import { sftpProxyConfigSpec, stagingS3ConfigSpec } from '@jmp/sftp-proxy';

/** Transfers can be long; a restart waits this long for them to end. */
export const SFTP_DRAIN_SECONDS = 300;

export const sftpConfigSpec = {
  host: { env: 'JMP_SFTP_HOST', schema: z.string().default('0.0.0.0'), help: 'listen address' },
  port: { env: 'JMP_SFTP_PORT', schema: port(2222), help: 'listen port' },
  apiUrl: { env: 'JMP_API_URL', schema: url().default('http://127.0.0.1:8080'), help: 'jmp-api base URL' },
  serviceToken: {
    env: 'JMP_SERVICE_TOKEN',
    schema: z.string().min(20, 'must be the token printed by `jmp-api service-token sftp`'),
    help: 'token from `jmp-api service-token sftp`',
  },
  hostKeyPath: {
    env: 'JMP_SFTP_HOST_KEY',
    schema: z.string().default('/var/lib/jmp/ssh_host_ed25519_key'),
    help: "host key file, created on first start; by default jmp-ssh's, so both ports show one key",
  },
  maxConnections: { env: 'JMP_SFTP_MAX_CONNECTIONS', schema: positiveInt(2000), help: 'connections per process' },
  targetPort: { env: 'JMP_SFTP_TARGET_PORT', schema: port(22), help: 'sshd port on targets' },
  proxyProtocol: {
    env: 'JMP_SFTP_PROXY_PROTOCOL',
    schema: bool(false),
    help: '`on`: every connection starts with a PROXY protocol header from the L4 balancer (nginx `proxy_protocol on;`)',
  },
  proxyTrusted: {
    env: 'JMP_SFTP_PROXY_TRUSTED',
    schema: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      ),
    help: 'the balancers allowed to send it: comma-separated addresses or CIDRs',
    unset: 'required when `JMP_SFTP_PROXY_PROTOCOL` is on',
  },
  logLevel: logLevelEntry(),
} as const;

export type SftpConfig = ConfigOf<typeof sftpConfigSpec>;

/** Every variable jmp-sftp reads, in the order of --help and the README. */
export const sftpConfigSpecs = [
  sftpConfigSpec,
  sftpProxyConfigSpec,
  stagingS3ConfigSpec,
  drainConfigSpec(SFTP_DRAIN_SECONDS),
] as const;
