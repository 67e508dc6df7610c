// The stack the jmp-sftp suites and the benchmark share: a lab (real sshd +
// pam_jmp + jmp-agent), jmp-api, alice with an SSH key and a login grant,
// and jmp-sftp in its own process, as in production.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  clientKey,
  knownHostsLine,
  startJumpStack,
  until,
  type JumpStack,
  type JumpStackOptions,
} from '../e2e/helpers.js';
import { freePort } from '../bench/lib/process.js';
import { opensshArgs } from '../bench/lib/openssh.js';

export interface SftpStack {
  stack: JumpStack;
  /** Files of this run (client key, known_hosts, spool), removed by close(). */
  dir: string;
  keyFile: string;
  knownHosts: string;
  sftp: JmpSftp;
  close(): Promise<void>;
}

export interface JmpSftp {
  port: number;
  proc: ChildProcess;
  spoolDir: string;
  hostKeyPath: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** jmp-sftp as its own process (the bundle dist/jmp-sftp.mjs when BENCH_JMP_SFTP names it, else through tsx). */
export async function startJmpSftp(
  stack: JumpStack,
  dir: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<JmpSftp> {
  const p = port ?? (await freePort());
  const hostKeyPath = join(dir, 'host_key');
  const spoolDir = join(dir, 'spool');
  const log = openSync(join(dir, 'jmp-sftp.log'), 'a');
  const entry = process.env.BENCH_JMP_SFTP ?? 'services/sftp/src/main.ts';
  const loader = entry.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const env_ = {
    JMP_API_URL: stack.api.url,
    JMP_SERVICE_TOKEN: stack.api.serviceToken('sftp'),
    JMP_SFTP_HOST: '127.0.0.1',
    JMP_SFTP_PORT: String(p),
    JMP_SFTP_HOST_KEY: hostKeyPath,
    JMP_SFTP_SPOOL_DIR: spoolDir,
    JMP_LOG_LEVEL: process.env.JMP_TEST_LOG_LEVEL ?? 'warn',
    JMP_DRAIN_SECONDS: '2',
    ...env,
  };
  // Its log goes to a file beside the test's other files (printed when a test fails).
  // JMP_SFTP_NODE_FLAGS: extra Node flags for jmp-sftp only (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile a benchmark).
  const flags = (process.env.JMP_SFTP_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...flags, ...loader, entry], {
    env: { ...process.env, ...env_ },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  await until(
    'jmp-sftp listening',
    () => {
      if (proc.exitCode !== null) throw new Error(`jmp-sftp exited with ${proc.exitCode}`);
      return new Promise<boolean>((r) => {
        const s = connect(p, '127.0.0.1', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      });
    },
    30_000,
  );
  return {
    port: p,
    proc,
    spoolDir,
    hostKeyPath,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return r();
        proc.once('exit', () => r());
        proc.kill(signal);
      }),
  };
}

/** Lab + jmp-api + alice (an SSH key, a login grant on each of `grants`) + jmp-sftp. */
export async function startSftpStack(
  opts: JumpStackOptions & {
    grants?: string[];
    setup?: (stack: JumpStack) => Promise<void>;
    /** alice's key (made here when not given). */
    key?: ReturnType<typeof clientKey>;
  } = {},
): Promise<SftpStack> {
  const stack = await startJumpStack(opts);
  try {
    const key = opts.key ?? clientKey('jmp-sftp-test-');
    const grants = opts.grants ?? [opts.hosts?.[0] ?? 'h1'];
    const aliceId = await stack.addPerson({ username: 'alice', right: 'login', host: grants[0]! });
    for (const h of grants.slice(1))
      await stack.api.db('grants').insert({
        subject_type: 'user',
        subject_id: aliceId,
        scope_type: 'host',
        scope_id: stack.hostIds[h],
        right: 'login',
      });
    await stack.api.db('user_ssh_keys').insert({
      user_id: aliceId,
      public_key: key.publicKey.line,
      fingerprint: key.publicKey.fingerprint,
    });
    await opts.setup?.(stack);
    // The agents started before enrolment: restart them, then wait until the granted hosts resolve alice.
    await Promise.all(stack.lab.hosts.map((h) => h.restartAgent()));
    for (const name of grants) {
      const h = stack.lab.host(name);
      await until(
        `${name} resolves alice`,
        async () => (await h.exec(['getent', 'passwd', 'alice'])).stdout.includes('alice:'),
        30_000,
      );
    }
    const sftp = await startJmpSftp(stack, key.dir);
    writeFileSync(join(key.dir, 'public_key'), `${key.publicKey.line}\n`);
    const knownHosts = join(key.dir, 'known_hosts');
    writeFileSync(knownHosts, `${knownHostsLine(sftp.port, readFileSync(sftp.hostKeyPath))}\n`);
    const self: SftpStack = {
      stack,
      dir: key.dir,
      keyFile: key.keyFile,
      knownHosts,
      sftp,
      close: async () => {
        await self.sftp.stop();
        await stack.close();
        spawnSync('rm', ['-rf', key.dir]);
      },
    };
    return self;
  } catch (err) {
    await stack.close();
    throw err;
  }
}

/** OpenSSH options (sftp, scp) for a non-interactive client with jmp-sftp's key pinned: the ssh benches' own. */
export function opensshOptions(s: SftpStack, knownHosts = s.knownHosts): string[] {
  return opensshArgs(s.keyFile, knownHosts).slice(1);
}

/** Runs a client to its end (asynchronously: jmp-api answers from this same process). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end(opts.input ?? '');
  });
}

/** Runs `sftp -b` with the given batch lines; `-` before a line lets it fail without stopping the batch. */
export function sftpBatch(
  s: SftpStack,
  lines: string[],
  port = s.sftp.port,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const batch = join(s.dir, 'batch');
  writeFileSync(batch, `${lines.join('\n')}\n`);
  return run('sftp', [...opensshOptions(s), '-P', String(port), '-b', batch, 'alice@127.0.0.1']);
}
