// Helpers shared by the end-to-end suites (test/e2e/*.test.ts) and the lab
// benchmarks (test/bench/agent-decide, target-login, ssh-hop, ssh-sessions):
// enrolling lab hosts with the real `jmp-agent enroll`, agent configs, ssh2
// logins, waits, and a whole jump stack (lab + jmp-api + SMTP listener).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect, type AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import ssh2, { Client } from 'ssh2';
import { SMTPServer } from 'smtp-server';
import { startLab, type Lab, type LabHost, type LabHostInfo } from '../lab/lab.js';
import { agentCli as runAgentCli, enrolWithToken } from '../lab/agent-cli.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { sha256hex } from '../../services/api/src/crypto/secrets.js';
import { parseSshPublicKey, type ParsedKey } from '@jmp/contract/ssh-key';
import { freePort, startNode } from '../bench/lib/process.js';

export const LAB_DIR = process.env.JMP_LAB_DIR ?? '/run/jmp-lab';

import { until } from '../lib/until.js';
import { generateEd25519KeyPair } from '../../services/ssh/src/server/host-key.js';
export { until };

/** Mount points at or below `dir` in this (root) namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && (mp === dir || mp.startsWith(`${dir}/`))) out.push(mp.replace(/\\040/g, ' '));
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Unmounts what this file (or a crashed run of it) mounted below the lab dir; lab.sh down cannot rm a mount point. */
export function unmountLabMounts(): void {
  for (const mp of mountsUnder(LAB_DIR)) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
}

/** Runs the real jmp-agent CLI inside the host (cwd = the repo, so `--import tsx` resolves). */
export function agentCli(h: LabHost, args: string[]) {
  return runAgentCli(h, args);
}

/** The agent's JSON log lines (pino) since `from` bytes. */
export function agentLog(h: LabHost, from = 0): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(h.agentLog).subarray(from).toString('utf8');
  } catch {
    return [];
  }
  const out: Array<Record<string, unknown>> = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      /* partial line */
    }
  }
  return out;
}
export const logSize = (h: LabHost): number => (existsSync(h.agentLog) ? readFileSync(h.agentLog).length : 0);

export interface Ssh2Result {
  code: number | null;
  stdout: string;
  stderr: string;
  prompts: string[];
}

/** Logs in with the ssh2 client (keyboard-interactive, the ticket answers every prompt), pins the host key, runs `command`. */
export function ssh2Login(h: LabHost, user: string, ticket: string, command: string): Promise<Ssh2Result> {
  const pinned = Buffer.from(h.sshHostKey.split(' ')[1]!, 'base64');
  return new Promise((resolve, reject) => {
    const conn = new Client();
    const prompts: string[] = [];
    const timer = setTimeout(() => {
      conn.end();
      reject(new Error('ssh2 login timed out'));
    }, 20_000);
    conn.on('keyboard-interactive', (_name, _instr, _lang, ps, finish) => {
      for (const p of ps) prompts.push(p.prompt);
      finish(ps.map(() => ticket));
    });
    conn.on('ready', () => {
      conn.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          conn.end();
          reject(err);
          return;
        }
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (c: number | null) => (code = c));
        stream.on('close', () => {
          clearTimeout(timer);
          conn.end();
          resolve({ code, stdout, stderr, prompts });
        });
      });
    });
    conn.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.connect({
      host: h.address,
      port: 22,
      username: user,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      hostVerifier: (key: Buffer) => key.equals(pinned),
      readyTimeout: 15_000,
    });
  });
}

/**
 * Writes the host's agent config (its /etc/jmp/agent.conf, in the overlay):
 * the lab's NSS cache paths (what libnss_jmp reads) plus `extra` (merged one
 * level deep). Use in `prepare`, before the agent starts.
 */
export function writeAgentConf(h: LabHostInfo, extra: Record<string, Record<string, unknown>> = {}): void {
  const conf: Record<string, Record<string, unknown>> = {
    files: { passwd: join(h.stateDir, 'passwd'), group: join(h.stateDir, 'group') },
  };
  for (const [k, v] of Object.entries(extra)) conf[k] = { ...conf[k], ...v };
  writeFileSync(
    join(h.etcDir, 'jmp', 'agent.conf'),
    `# written by test/e2e/helpers.ts\n${JSON.stringify(conf, null, 2)}\n`,
  );
}

/**
 * Enrols lab hosts into a service with one enrolment token (`jmp-agent enroll`
 * run inside each host: its host name, addresses and SSH host keys) and checks
 * what jmp-api registered. Returns the host ids by name. Restart the agents
 * afterwards (they were started unenrolled).
 */
export async function enrolLabHosts(
  api: TestApi,
  serviceId: number,
  hosts: LabHost[],
): Promise<Record<string, number>> {
  const token = `jmpe_${randomBytes(32).toString('base64url')}`;
  await api.db('enrolment_tokens').insert({
    token_hash: sha256hex(token),
    service_id: serviceId,
    max_uses: hosts.length,
    expires_at: new Date(Date.now() + 3600_000),
  });
  await enrolWithToken(hosts, api.url, token);
  const ids: Record<string, number> = {};
  for (const h of hosts) {
    const row: { id: number; addresses: string[]; ssh_host_keys: string[] } | undefined = await api
      .db('hosts')
      .where({ hostname: h.name })
      .first();
    assert.ok(row, `host ${h.name} registered`);
    assert.deepEqual(row.addresses, [h.address]);
    assert.deepEqual(row.ssh_host_keys, [h.sshHostKey.split(' ').slice(0, 2).join(' ')]);
    assert.ok(existsSync(join(h.etcDir, 'jmp', 'agent.key')), `${h.name}: its agent key in its own /etc overlay`);
    ids[h.name] = row.id;
  }
  return ids;
}

/** A lab, a jmp-api whose alerts go to a local SMTP listener, and the hosts enrolled into one service. */
export interface JumpStack {
  lab: Lab;
  api: TestApi;
  serviceId: number;
  /** Host ids in jmp-api by name. */
  hostIds: Record<string, number>;
  /** Every message the SMTP listener received (headers and body). */
  mails: string[];
  /** Adds a person with a login or root grant on `host`; pass `totpSecret` sealed by the caller's api. */
  addPerson(p: {
    username: string;
    password?: string;
    email?: string;
    totpSecretEnc?: string;
    right: 'login' | 'root';
    host: string;
  }): Promise<number>;
  /** Restarts the agents and waits until every host resolves `usernames` (its NSS cache). */
  syncHosts(usernames: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface JumpStackOptions {
  hosts?: string[];
  /** Runs after the agent config is written, before the daemons start. */
  prepare?: (h: LabHostInfo) => void | Promise<void>;
  /** Extra agent.conf sections (merged into the defaults below). */
  agentConf?: Record<string, Record<string, unknown>>;
}

/**
 * Builds the stack the jump-host suites and benchmarks share. Agents poll
 * policy every second so new people reach the hosts quickly.
 */
export async function startJumpStack(opts: JumpStackOptions = {}): Promise<JumpStack> {
  const mails: string[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let b = '';
      stream.on('data', (d: Buffer) => {
        b += d.toString();
      });
      stream.on('end', () => {
        mails.push(b);
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  let lab: Lab | undefined;
  let api: TestApi | undefined;
  const close = async (): Promise<void> => {
    await api?.close();
    await lab?.stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  };
  try {
    lab = await startLab({
      hosts: opts.hosts ?? ['h1'],
      prepare: async (h) => {
        const extra = opts.agentConf ?? {};
        writeAgentConf(h, { ...extra, policy: { intervalMs: 1000, jitterMs: 0, ...extra.policy } });
        await opts.prepare?.(h);
      },
    });
    const started = lab;
    api = await startApi({
      listenHost: lab.bridgeAddress,
      env: { JMP_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}` },
    });
    const theApi = api;
    const svc = await addService(api.db, (await addProject(api.db)).id);
    const hostIds = await enrolLabHosts(api, svc.id, lab.hosts);
    return {
      lab,
      api,
      serviceId: svc.id,
      hostIds,
      mails,
      close,
      async addPerson(p) {
        const hostId = hostIds[p.host];
        if (hostId === undefined) throw new Error(`no lab host ${p.host}`);
        const u = await addUser(theApi.db, {
          username: p.username,
          ...(p.password ? { password: p.password } : {}),
          ...(p.email ? { email: p.email } : {}),
          ...(p.totpSecretEnc ? { totp_secret_enc: p.totpSecretEnc } : {}),
        });
        await addGrant(theApi.db, { subject_id: u.id, scope_type: 'host', scope_id: hostId, right: p.right });
        return u.id as number;
      },
      async syncHosts(usernames) {
        await Promise.all(
          started.hosts.map(async (h) => {
            await h.restartAgent();
            await until(
              `${h.name} resolves ${usernames.join(', ')}`,
              async () =>
                (await h.exec(['getent', 'passwd', ...usernames])).stdout.split('\n').filter((l) => l.includes(':'))
                  .length === usernames.length,
              30_000,
            );
          }),
        );
      },
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A known_hosts line for an SSH server at 127.0.0.1:port with the given private host key (OpenSSH or PEM). */
export function knownHostsLine(port: number, privateHostKey: string | Buffer, host = '127.0.0.1'): string {
  const key = ssh2.utils.parseKey(privateHostKey);
  if (key instanceof Error) throw key;
  const pub = key.getPublicSSH().toString('base64');
  return `${port === 22 ? host : `[${host}]:${port}`} ${key.type} ${pub}`;
}

/**
 * For a direct OpenSSH baseline only: the host's sshd also accepts `user`'s
 * public key (PAM account and session still run pam_jmp). Use in `prepare`.
 */
export function allowPublicKeyLogin(h: LabHostInfo, user: string, publicKeyLine: string): void {
  const conf = join(h.etcDir, 'ssh', 'sshd_config');
  const text = readFileSync(conf, 'utf8');
  const changed = text
    .replace(/^AuthenticationMethods .*$/m, 'AuthenticationMethods publickey keyboard-interactive')
    .replace(/^PubkeyAuthentication no$/m, 'PubkeyAuthentication yes\nAuthorizedKeysFile /etc/ssh/authorized_keys/%u');
  if (!/^PubkeyAuthentication yes$/m.test(changed))
    throw new Error(`${h.name}: could not enable public keys in ${conf}`);
  writeFileSync(conf, changed);
  mkdirSync(join(h.etcDir, 'ssh', 'authorized_keys'), { recursive: true });
  writeFileSync(join(h.etcDir, 'ssh', 'authorized_keys', user), `${publicKeyLine}\n`, { mode: 0o644 });
}

/** A fresh ed25519 key for an ssh client: the private half in a 0600 file in a new temporary directory (the caller removes `dir`). */
export function clientKey(prefix: string): { dir: string; keyFile: string; publicKey: ParsedKey } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const keys = generateEd25519KeyPair();
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, keys.private, { mode: 0o600 });
  const publicKey = parseSshPublicKey(keys.public);
  if (typeof publicKey === 'string') throw new Error(publicKey);
  return { dir, keyFile, publicKey };
}

export interface JmpSshProcess {
  port: number;
  proc: ChildProcess;
  hostKeyPath: string;
  recordingDir: string;
}

/**
 * jmp-ssh in its own process, as in production: the bundle
 * (dist/jmp-ssh.mjs, or BENCH_JMP_SSH) or a .ts entry through tsx. Files go
 * below `dir`; `env` overrides the settings (limits, log level).
 */
export async function startJmpSshProcess(
  api: TestApi,
  dir: string,
  env: Record<string, string> = {},
): Promise<JmpSshProcess> {
  const port = await freePort();
  const hostKeyPath = join(dir, 'host_key');
  const recordingDir = join(dir, 'recordings');
  const proc = startNode([process.env.BENCH_JMP_SSH ?? 'dist/jmp-ssh.mjs'], {
    JMP_API_URL: api.url,
    JMP_SERVICE_TOKEN: api.serviceToken('ssh'),
    JMP_SSH_HOST: '127.0.0.1',
    JMP_SSH_PORT: String(port),
    JMP_SSH_HOST_KEY: hostKeyPath,
    JMP_RECORDING_DIR: recordingDir,
    JMP_RECORDING_SPOOL_DIR: join(dir, 'spool'),
    JMP_LOG_LEVEL: 'warn',
    JMP_DRAIN_SECONDS: '5',
    ...env,
  });
  await until(
    'jmp-ssh listening',
    () => {
      if (proc.exitCode !== null) throw new Error(`jmp-ssh exited with ${proc.exitCode}`);
      return new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      });
    },
    30_000,
  );
  return { port, proc, hostKeyPath, recordingDir };
}
