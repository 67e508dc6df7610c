// ssh-throughput: `head -c 512M /dev/zero` printed in an interactive session
// on a lab host (real sshd, pam_jmp, jmp-agent), read by the real OpenSSH
// client (`ssh -tt`, output counted, not displayed):
//   jmp     ssh -p <jmp-ssh> alice@127.0.0.1 → menu → `ssh h1` → the command
//           (through jmp-ssh's command guard, recorder — gzip on local disk —
//           and its back-pressure); jmp-ssh is the bundle (dist/jmp-ssh.mjs)
//           in its own process, as in production
//   direct  ssh alice@<h1> (public key) → the command
// Timed from sending the command line to the end marker the shell prints
// after it. Method (test/bench/README.md): a warm-up flood of each side
// (BENCH_THROUGHPUT_WARMUP_MIB, default 64), then BENCH_ROUNDS (default 3)
// alternating rounds (direct, jmp) of BENCH_THROUGHPUT_MIB (default 512);
// `ratio` is the median of the per-round ratios jmp/direct MB/s, so a burst of
// noise on this shared machine hits both sides of a round alike.
// Target: ratio jmp/direct ≥ 0.7. Last line:
//   {"bench":"ssh-throughput","ratio":…,"jmp_mbps":…,"direct_mbps":…,"rounds":…}
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, type Lab } from '../../lab/lab.js';
import {
  addGrant,
  addProject,
  addService,
  addUser,
  startApi,
  type TestApi,
} from '../../../services/api/test/harness.js';
import { freePort, startNode, stop } from '../lib/process.js';
import { connect } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { allowPublicKeyLogin, clientKey, enrolLabHosts, until, writeAgentConf } from '../../e2e/helpers.js';
import { readRecording } from '@jmp/recording';
import { alternate, goal, median, medianRatio, result, roundCount } from '../lib/method.js';

const MIB = 1024 * 1024;
const SIZE_MIB = Number(process.env.BENCH_THROUGHPUT_MIB ?? 512);
const WARMUP_MIB = Number(process.env.BENCH_THROUGHPUT_WARMUP_MIB ?? 64);
const PROMPT = /alice@h1[^\n]*\$ $/;
// The typed line shows `$((6*7))`; only the shell's output shows 42.
const command = (mib: number) => `head -c ${mib}M /dev/zero; echo JMP-BENCH-$((6*7))-END\r`;
const END = Buffer.from('JMP-BENCH-42-END');
const log = (m: string): void => void process.stderr.write(`ssh-throughput: ${m}\n`);

/** An OpenSSH client on a pty (-tt) whose output is scanned, not kept. */
class Client {
  readonly proc: ChildProcessWithoutNullStreams;
  private tail = '';
  private bytes = 0;
  private waiter: { test: (tail: string, chunk: Buffer) => boolean; resolve: () => void } | null = null;

  constructor(args: string[]) {
    this.proc = spawn('ssh', [
      '-tt',
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=no',
      '-o',
      'UserKnownHostsFile=/dev/null',
      '-o',
      'LogLevel=ERROR',
      ...args,
    ]);
    this.proc.stderr.on('data', (d: Buffer) => log(`ssh: ${d.toString().trim()}`));
    this.proc.stdout.on('data', (d: Buffer) => {
      this.bytes += d.length;
      // Keep a short printable tail for prompts; NUL floods are dropped from it.
      this.tail = (this.tail + d.subarray(-4096).toString('latin1').replace(/\0+/g, '')).slice(-4096);
      if (this.waiter?.test(this.tail, d)) {
        const w = this.waiter;
        this.waiter = null;
        w.resolve();
      }
    });
  }

  get received(): number {
    return this.bytes;
  }

  wait(what: string, test: (tail: string, chunk: Buffer) => boolean, ms: number): Promise<void> {
    if (test(this.tail, Buffer.alloc(0))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`timed out waiting for ${what}; screen tail: ${JSON.stringify(this.tail.slice(-300))}`));
      }, ms);
      this.waiter = {
        test,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
    });
  }

  prompt(re: RegExp, ms = 30_000): Promise<void> {
    return this.wait(`${re}`, (tail) => re.test(tail), ms);
  }

  send(s: string): void {
    this.proc.stdin.write(s);
  }

  /** Runs the flood; returns MB/s (10^6 bytes) of the payload. */
  async flood(mib: number): Promise<{ mbps: number; ms: number; bytes: number }> {
    this.tail = '';
    const before = this.bytes;
    const t0 = performance.now();
    this.send(command(mib));
    // The marker may straddle two chunks: look at the printable tail too.
    await this.wait('the end marker', (tail, chunk) => chunk.includes(END) || tail.includes(END.toString()), 600_000);
    const ms = performance.now() - t0;
    const bytes = this.bytes - before;
    if (bytes < mib * MIB) throw new Error(`only ${bytes} bytes arrived for ${mib} MiB`);
    return { mbps: +((mib * MIB) / 1e6 / (ms / 1000)).toFixed(1), ms: Math.round(ms), bytes };
  }

  close(): Promise<void> {
    return new Promise((r) => {
      if (this.proc.exitCode !== null) return r();
      this.proc.once('exit', () => r());
      this.proc.kill('SIGTERM');
    });
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('ssh-throughput builds lab hosts: run it as root');
  const { dir: tmp, keyFile, publicKey: parsed } = clientKey('jmp-bench-tput-');

  let lab: Lab | undefined;
  let api: TestApi | undefined;
  let ssh: ChildProcess | undefined;
  const clients: Client[] = [];
  try {
    lab = await startLab({
      hosts: ['h1'],
      prepare: (h) => {
        writeAgentConf(h, { log: { level: 'warn' } });
        // For the direct baseline only: this sshd also takes alice's public key (PAM account and session still run pam_jmp).
        allowPublicKeyLogin(h, 'alice', parsed.line);
      },
    });
    const h1 = lab.host('h1');
    api = await startApi({ listenHost: lab.bridgeAddress });
    const svc = await addService(api.db, (await addProject(api.db)).id);
    const ids = await enrolLabHosts(api, svc.id, [h1]);
    const alice = await addUser(api.db, { username: 'alice' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: ids.h1!, right: 'login' });
    await api
      .db('user_ssh_keys')
      .insert({ user_id: alice.id, public_key: parsed.line, fingerprint: parsed.fingerprint });
    await api.db('command_rules').insert({
      name: 'no deleting /tmp/x',
      pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
      action: 'block',
      severity: 'high',
    });
    await h1.restartAgent();
    await until('h1 knows alice', async () => (await h1.exec(['getent', 'passwd', 'alice'])).code === 0, 20_000);
    const port = await freePort();
    const recordingDir = join(tmp, 'recordings');
    ssh = startNode([process.env.BENCH_JMP_SSH ?? 'dist/jmp-ssh.mjs'], {
      JMP_API_URL: api.url,
      JMP_SERVICE_TOKEN: api.serviceToken('ssh'),
      JMP_SSH_HOST: '127.0.0.1',
      JMP_SSH_PORT: String(port),
      JMP_SSH_HOST_KEY: join(tmp, 'host_key'),
      JMP_RECORDING_DIR: recordingDir,
      JMP_RECORDING_SPOOL_DIR: join(tmp, 'spool'),
      JMP_LOG_LEVEL: 'warn',
      JMP_DRAIN_SECONDS: '5',
    });
    await until(
      'jmp-ssh listening',
      () =>
        new Promise<boolean>((r) => {
          const s = connect(port, '127.0.0.1', () => {
            s.destroy();
            r(true);
          });
          s.on('error', () => r(false));
        }),
      30_000,
    );
    log('lab, jmp-api and jmp-ssh are up');

    const direct = new Client(['-i', keyFile, `alice@${h1.address}`]);
    clients.push(direct);
    await direct.prompt(PROMPT);
    log('direct session at the prompt');
    const viaJmp = new Client(['-i', keyFile, '-p', String(port), 'alice@127.0.0.1']);
    clients.push(viaJmp);
    await viaJmp.prompt(/\$ (?:\x1b\[K)?$/);
    viaJmp.send('ssh h1\r');
    await viaJmp.prompt(PROMPT);
    log('session through jmp-ssh at the prompt');

    type Flood = Awaited<ReturnType<Client['flood']>> & { mib: number };
    const side =
      (c: Client) =>
      async (r: number): Promise<Flood> => {
        const mib = r ? SIZE_MIB : WARMUP_MIB;
        const f = await c.flood(mib);
        await c.prompt(PROMPT);
        return { ...f, mib };
      };
    const rounds = await alternate<Flood, Flood>({
      bench: 'ssh-throughput',
      rounds: roundCount(),
      a: { name: 'direct', run: side(direct) },
      b: { name: 'jmp', run: side(viaJmp) },
      describe: (f) => `${f.mib} MiB in ${f.ms} ms = ${f.mbps} MB/s (${f.bytes} bytes on the client)`,
    });
    const floods = rounds.rounds + 1; // jmp floods in the recording, the warm-up included
    const ratio = medianRatio(
      rounds,
      (b) => b.mbps,
      (a) => a.mbps,
    );
    const mbps = (fs: Flood[]) => median(fs.map((f) => f.mbps));
    const out = {
      ratio,
      jmp_mbps: mbps(rounds.b),
      direct_mbps: mbps(rounds.a),
      best_jmp_mbps: Math.max(...rounds.b.map((f) => f.mbps)),
      best_direct_mbps: Math.max(...rounds.a.map((f) => f.mbps)),
      mib: SIZE_MIB,
      rounds: rounds.rounds,
    };
    viaJmp.send('exit\r');
    await viaJmp.prompt(/Back in jmp\.[\s\S]*\$ (?:\x1b\[K)?$/);
    // The recording kept up: every end marker is in it and nothing was dropped
    // (back-pressure paused the target instead). NUL bytes are not recorded.
    const session = await until(
      'the ended session',
      () => api!.db('sessions').where({ host_id: ids.h1 }).whereNotNull('recording_uri').first(),
      15_000,
    );
    let text = '';
    for await (const item of readRecording(session.recording_uri))
      if (item.type === 'event') text += item.event[1] === 'm' ? `\n[marker ${item.event[2]}]\n` : item.event[2];
    const ends = text.split('JMP-BENCH-42-END').length - 1;
    if (ends !== floods || /recording_gap|recording_truncated/.test(text))
      throw new Error(`recording incomplete: ${ends} of ${floods} end markers; ${JSON.stringify(text.slice(-500))}`);
    log(
      `recording: ${dirBytes(recordingDir)} bytes on disk for ${rounds.rounds * SIZE_MIB + WARMUP_MIB} MiB of NUL output; all ${ends} end markers in it, no gap`,
    );
    goal('ssh-throughput', 'jmp MB/s / direct MB/s (median of per-round ratios)', ratio, ratio >= 0.7, '≥ 0.7');
    result('ssh-throughput', out);
  } finally {
    for (const c of clients) await c.close();
    if (ssh) await stop(ssh);
    await api?.close();
    await lab?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`ssh-throughput failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
