// The agent's configuration: one JSON file (default /etc/jmp/agent.conf,
// `--config PATH` or JMP_AGENT_CONFIG), validated with zod. Every path the
// agent touches comes from here, so a lab host or a test can run an agent
// entirely inside a temporary directory. Lines whose first non-blank
// character is `#` are comments. Unset file paths derive from `stateDir`.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { contract } from '@jmp/contract';

export const DEFAULT_CONFIG_PATH = '/etc/jmp/agent.conf';

const absPath = z.string().min(1).refine(isAbsolute, 'must be an absolute path');
const ms = (def: number) => z.number().int().min(1).max(3_600_000).default(def);

export const GuardedFile = z.object({
  path: absPath,
  /** A regular expression: only lines matching it are guarded (e.g. `^(passwd|group):` in nsswitch.conf). Absent: the whole file. */
  lines: z.string().min(1).optional(),
  /** Absent is normal (a PAM service of a package the host may not have, e.g. xrdp): not guarded, quietly. */
  optional: z.boolean().optional(),
});
export type GuardedFile = z.infer<typeof GuardedFile>;

export const DEFAULT_GUARDED_FILES: GuardedFile[] = [
  { path: '/etc/pam.d/sshd' },
  { path: '/etc/pam.d/sudo' },
  { path: '/etc/pam.d/su' },
  { path: '/etc/pam.d/xrdp-sesman', optional: true },
  { path: '/etc/nsswitch.conf', lines: '^\\s*(passwd|group)\\s*:' },
  { path: '/etc/sudoers.d/jmp' },
];

export const AgentConfigSchema = z.object({
  api: z
    .object({
      /** Overrides the jmp-api URL stored at enrolment (e.g. after moving jmp-api). */
      url: z.string().url().optional(),
      /** IPs to connect to when the API host name does not resolve (the URL's name stays in Host/SNI and certificate checks). */
      fallbackAddresses: z.array(contract.IpAddress).max(16).default([]),
      /** Extra CA certificates (PEM) trusted for https. */
      caFile: absPath.optional(),
      /** Deadline for policy pulls, enrolment, events, tickets. */
      requestTimeoutMs: ms(10_000),
      /** Deadline for an online PAM decision before the agent decides offline. */
      decideTimeoutMs: ms(1500),
    })
    .prefault({}),
  socket: z
    .object({
      path: absPath.default('/run/jmp/agent.sock'),
      maxConnections: z.number().int().min(1).max(65_536).default(256),
      idleTimeoutMs: ms(5000),
    })
    .prefault({}),
  stateDir: absPath.default('/var/lib/jmp'),
  /** The agent's ES256 private key (PKCS#8 PEM, mode 0600). */
  keyFile: absPath.default('/etc/jmp/agent.key'),
  files: z
    .object({
      state: absPath.optional(),
      policy: absPath.optional(),
      passwd: absPath.optional(),
      group: absPath.optional(),
      spentJti: absPath.optional(),
      events: absPath.optional(),
      status: absPath.optional(),
      guardBaseline: absPath.optional(),
    })
    .prefault({}),
  /** SSH host public keys registered at enrolment; missing files are skipped. */
  sshHostKeyFiles: z
    .array(absPath)
    .default(['/etc/ssh/ssh_host_ed25519_key.pub', '/etc/ssh/ssh_host_ecdsa_key.pub', '/etc/ssh/ssh_host_rsa_key.pub']),
  policy: z
    .object({ intervalMs: ms(30_000), jitterMs: z.number().int().min(0).max(600_000).default(5000) })
    .prefault({}),
  decide: z
    .object({
      /** With no snapshot at all: `deny` (default) or `allow`. A fail policy received from jmp-api replaces it. */
      noSnapshot: z.enum(['deny', 'allow']).default('deny'),
    })
    .prefault({}),
  nss: z
    .object({
      /** Snapshot users and groups with a smaller id are never written to the NSS files. */
      minId: z.number().int().min(1).default(1000),
    })
    .prefault({}),
  guard: z
    .object({
      enabled: z.boolean().default(true),
      intervalMs: ms(1000),
      files: z.array(GuardedFile).max(64).default(DEFAULT_GUARDED_FILES),
    })
    .prefault({}),
  events: z
    .object({ maxQueued: z.number().int().min(1).max(100_000).default(1000), flushIntervalMs: ms(10_000) })
    .prefault({}),
  doctor: z
    .object({
      pamModule: absPath.default('/usr/lib/x86_64-linux-gnu/security/pam_jmp.so'),
      /** PAM service files that must use pam_jmp.so, by the op they serve. */
      pamFiles: z.array(absPath).default(['/etc/pam.d/sshd', '/etc/pam.d/sudo', '/etc/pam.d/su']),
      /** PAM service files checked like pamFiles when they exist (xrdp-sesman: Linux desktops through jmp-rdp). */
      optionalPamFiles: z.array(absPath).default(['/etc/pam.d/xrdp-sesman']),
      nsswitch: absPath.default('/etc/nsswitch.conf'),
      nssConf: absPath.default('/etc/jmp/nss.conf'),
      sudoers: absPath.default('/etc/sudoers.d/jmp'),
    })
    .prefault({}),
  /** Database terminals (`jmp-agent db mariadb|redis`): where the local servers listen and how accounts are kept. */
  db: z
    .object({
      mariadb: z
        .object({
          socket: absPath.default('/run/mysqld/mysqld.sock'),
          /** The client the agent runs, for people (`jmp-agent db mariadb`) and for account sync (as root). */
          client: z.string().min(1).default('mariadb'),
          /** Accounts are also re-synced this often (new databases get the role grants). */
          syncIntervalMs: ms(60_000),
        })
        .prefault({}),
      redis: z
        .object({
          socket: absPath.default('/run/redis/redis-server.sock'),
          client: z.string().min(1).default('redis-cli'),
          /** A root-only file with the password of the Redis user that may run ACL SETUSER (absent: the default user, no password). */
          adminAuthFile: absPath.optional(),
        })
        .prefault({}),
    })
    .prefault({}),
  log: z
    .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});
type RawConfig = z.output<typeof AgentConfigSchema>;

export type Paths = Required<{ [K in keyof RawConfig['files']]: string }>;
export type AgentConfig = Omit<RawConfig, 'files'> & { files: Paths; configPath: string };

export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

/** Parses config text (JSON with `#` comment lines). Throws AgentConfigError naming the bad field. */
export function parseConfig(text: string, configPath = '(inline)'): AgentConfig {
  const json = text
    .split('\n')
    .map((l) => (/^\s*#/.test(l) ? '' : l))
    .join('\n');
  let raw: unknown;
  try {
    raw = json.trim() === '' ? {} : JSON.parse(json);
  } catch (err) {
    throw new AgentConfigError(`${configPath}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = AgentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AgentConfigError(`${configPath}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const c = parsed.data;
  for (const g of c.guard.files) {
    if (g.lines !== undefined) {
      try {
        new RegExp(g.lines);
      } catch (err) {
        throw new AgentConfigError(
          `${configPath}: guard.files: "${g.lines}" is not a regular expression: ${(err as Error).message}`,
        );
      }
    }
  }
  const d = (name: string) => join(c.stateDir, name);
  const files: Paths = {
    state: c.files.state ?? d('state.json'),
    policy: c.files.policy ?? d('policy.json'),
    passwd: c.files.passwd ?? d('passwd'),
    group: c.files.group ?? d('group'),
    spentJti: c.files.spentJti ?? d('spent-jti'),
    events: c.files.events ?? d('events.json'),
    status: c.files.status ?? d('status.json'),
    guardBaseline: c.files.guardBaseline ?? d('guard-baseline.json'),
  };
  return { ...c, files, configPath };
}

/** Where the config is: `--config`, else JMP_AGENT_CONFIG, else /etc/jmp/agent.conf. */
export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env['JMP_AGENT_CONFIG'] || DEFAULT_CONFIG_PATH);
}

/**
 * Reads and parses the config file. A missing file at the default path means
 * "all defaults"; a missing file named explicitly is an error.
 */
export function loadAgentConfig(path: string, explicit: boolean): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return parseConfig('', path);
    throw new AgentConfigError(`${path}: cannot read the config file: ${(err as Error).message}`);
  }
  return parseConfig(text, path);
}
