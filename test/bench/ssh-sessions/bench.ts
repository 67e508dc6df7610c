// ssh-sessions: many concurrent interactive target sessions through ONE
// jmp-ssh process (the bundle, its limits raised through its environment),
// every person typing at a steady pace; jmp-ssh's CPU per echoed key against a
// bare ssh2 two-hop relay, keystroke-to-echo latency, memory per session.
//
//   people   a child process (load.ts) with BENCH_SESSIONS ssh2 clients per
//            side: public-key login, pty 120x40; through jmp-ssh `ssh t1` in
//            the jump shell, through the relay the target's shell at once.
//            Each sends one key every BENCH_KEY_INTERVAL_MS (letter,
//            Backspace, letter, …), one key in flight per session.
//   jmp-ssh  every session goes through the full path: ticket and session
//            registration in jmp-api, command guard (a headless terminal per
//            session), recorder (asciicast, gzip, local disk), heartbeats.
//   relay    the baseline (relay.ts): one ssh2 process that takes the same
//            login and pipes a pty shell to the same target over a second
//            ssh2 hop, nothing else: the two hops jmp-ssh cannot avoid.
//   target   BENCH_SESSIONS_TARGET=echo (default): one ssh2 server process
//            (echo-target.ts) inside a lab namespace, registered in jmp-api
//            like an enrolled host (address, SSH host key), answering the
//            "jmp ticket: " prompt and echoing a pty shell. jmp-ssh's code
//            path is the same as with sshd: only the process at the other
//            end of its target connection differs. Why not real sshd, as
//            measured on this 2-core machine (BENCH_SESSIONS_TARGET=sshd):
//            each session is 3 processes (sshd monitor, sshd user child,
//            bash), 300 sessions = 903 processes and ~870 MB PSS; with 1,000
//            the target side alone pushes the direct echo p99 to 22-42 ms
//            (bash and sshd compete with everything else for the two cores),
//            so the figure would measure the target, not jmp-ssh; and while
//            1,000 sessions tear down, that sshd drops new connections before
//            its banner, failing the next logins. BENCH_SESSIONS_TARGET=sshd
//            runs the real lab sshd (pam_jmp, real jmp-agent) for smaller
//            counts (300: echo p99 4.8 ms).
// Method (test/bench/README.md): both sets of sessions are opened and stay
// open; typing rounds alternate (relay, jmp-ssh) after a shorter warm-up round
// of each, BENCH_ROUNDS (default 3) of BENCH_TYPE_SECONDS each. Per round, the
// side's CPU seconds (utime + stime from /proc/<pid>/stat) over its keys
// echoed; `cpu_ratio` is the median of the per-round ratios jmp-ssh / relay.
// `echo_p99_ms` is the median of jmp-ssh's per-round p99s.
// RSS: jmp-ssh's VmRSS at rest after a warm-up, and after the typing rounds
// with every session open; per session = (after − before) / sessions.
// Goals: cpu_ratio ≤ 2.0, echo p99 ≤ 50 ms. Missing a goal is reported on
// stderr; a session that cannot be opened or a key that never echoes fails (exit 1).
// Last line: {"bench":"ssh-sessions","cpu_ratio":…,"echo_p99_ms":…,"sessions":…,…}
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, type Lab, type LabHost } from '../../lab/lab.js';
import {
  addGrant,
  addHost,
  addProject,
  addService,
  addUser,
  startApi,
  type TestApi,
} from '../../../services/api/test/harness.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import {
  allowPublicKeyLogin,
  startJmpSshProcess,
  startJumpStack,
  until,
  type JmpSshProcess,
  type JumpStack,
} from '../../e2e/helpers.js';
import { freePort, stop } from '../lib/process.js';
import { alternate, cpuSeconds, goal, median, medianRatio, result, rssMb, round3, roundCount } from '../lib/method.js';
import type { OpenSpec, TypeSpec } from './load.js';
import { generateEd25519KeyPair } from '../../../services/ssh/src/server/host-key.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const TARGET_KIND = process.env.BENCH_SESSIONS_TARGET ?? 'echo';
const INTERVAL_MS = Number(process.env.BENCH_KEY_INTERVAL_MS ?? 500);
const TYPE_SECONDS = Number(process.env.BENCH_TYPE_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_OPEN_CONCURRENCY ?? 32);
const WARMUP_SESSIONS = 20;
const WARMUP_TYPE_SECONDS = Math.min(3, TYPE_SECONDS);
const TARGET_P99_MS = 50;
const TARGET_CPU_RATIO = 2;
const ECHO_PORT = 2222;
const run = promisify(execFile);
const log = (m: string): void => void process.stderr.write(`ssh-sessions: ${m}\n`);

/** Every process in a lab host's network namespace. */
async function namespacePids(ns: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', ns]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** Proportional set size (shared pages split among their users) of processes, in MB. */
function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return Math.round(kb / 1024);
}

/** RSS once two readings 2 s apart agree within 2% (V8 returns garbage some seconds after a burst), at most 20 s. */
async function rssSettled(pid: number): Promise<number> {
  let prev = rssMb(pid);
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = rssMb(pid);
    if (Math.abs(now - prev) <= prev * 0.02) return now;
    prev = now;
  }
  return prev;
}

/** jmp-ssh's event-loop delay and GC pauses between two wall-clock times (loop-monitor.mjs lines). */
function loopSummary(
  file: string,
  from: number,
  to: number,
): { maxMs: number; windows: number; slowWindows: number; gc: number[] } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* no monitor output */
  }
  const lines = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { t: number; maxMs: number; gcMs: number[] })
    .filter((l) => l.t > from && l.t <= to + 500);
  return {
    maxMs: Math.max(0, ...lines.map((l) => l.maxMs)),
    windows: lines.length,
    slowWindows: lines.filter((l) => l.maxMs > 20).length,
    gc: lines.flatMap((l) => l.gcMs),
  };
}

interface Typed {
  keys: number;
  p50: number;
  p99: number;
  max: number;
  lost: number;
}
/** One side's typing round: the echoes and the CPU its process used for them. */
interface Round extends Typed {
  cpuS: number;
  cores: number;
  cpuPerKeyUs: number;
}

/** A bare ssh2 two-hop relay to the target (relay.ts), the baseline. */
async function startRelay(
  tmp: string,
  personKeyLine: string,
  target: Target,
): Promise<{ proc: ChildProcess; port: number }> {
  const hostKey = generateEd25519KeyPair();
  const hostKeyFile = join(tmp, 'relay_host_key');
  writeFileSync(hostKeyFile, hostKey.private, { mode: 0o600 });
  const env: Record<string, string> = {
    RELAY_HOST_KEY: hostKeyFile,
    RELAY_USER_KEY: personKeyLine,
    RELAY_TARGET_HOST: target.address,
    RELAY_TARGET_PORT: String(target.port),
    RELAY_TARGET_HOST_KEY: target.direct.hostKey!,
  };
  if (target.direct.password) env.RELAY_TARGET_SECRET = target.direct.password;
  else {
    env.RELAY_TARGET_KEY_FILE = join(tmp, 'relay_target_key');
    writeFileSync(env.RELAY_TARGET_KEY_FILE, target.direct.privateKey!, { mode: 0o600 });
  }
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'relay.ts')], {
      env: { ...process.env, ...env, RELAY_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const up = await new Promise<boolean>((resolve) => {
      proc.once('exit', () => resolve(false));
      proc.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('listening')) resolve(true);
      });
    });
    if (up) return { proc, port };
    if (attempt >= 2) throw new Error(`the relay exited with ${proc.exitCode}`);
  }
}

/** The load child: one request at a time over IPC. */
class People {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(join(HERE, 'load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }
  private ask<T>(msg: object): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load process exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (r: { ok: boolean; error?: string } & T) => {
        this.child.removeListener('exit', onExit);
        if (r.ok) resolve(r);
        else reject(new Error(`load: ${r.error}`));
      });
      this.child.send(msg);
    });
  }
  open(spec: OpenSpec) {
    return this.ask<{ opened: number; ms: number }>({ cmd: 'open', ...spec });
  }
  type(spec: TypeSpec) {
    return this.ask<Typed>({ cmd: 'type', ...spec });
  }
  close(group: string) {
    return this.ask<object>({ cmd: 'close', group });
  }
  async end(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    await stop(this.child);
  }
}

interface Target {
  name: string;
  address: string;
  port: number;
  prompt: string;
  direct: Pick<OpenSpec, 'password' | 'privateKey' | 'hostKey'>;
  pids(): Promise<number[]>;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('ssh-sessions builds lab hosts: run it as root');
  if (TARGET_KIND !== 'echo' && TARGET_KIND !== 'sshd') throw new Error('BENCH_SESSIONS_TARGET must be echo or sshd');
  const tmp = mkdtempSync(join(tmpdir(), 'jmp-bench-sessions-'));
  const person = generateEd25519KeyPair();
  const personKey = parseSshPublicKey(person.public);
  if (typeof personKey === 'string') throw new Error(personKey);

  let lab: Lab | undefined;
  let api: TestApi | undefined;
  let stack: JumpStack | undefined;
  let echo: ChildProcess | undefined;
  let jmp: JmpSshProcess | undefined;
  let relay: { proc: ChildProcess; port: number } | undefined;
  let people: People | undefined;
  let profiling: { file: string; proc: ChildProcess } | undefined;
  /** Ends the CPU profile (also when a round failed: the profile says why it was slow). */
  const stopProfile = async (): Promise<void> => {
    if (!profiling) return;
    const { file, proc } = profiling;
    profiling = undefined;
    rmSync(file, { force: true });
    proc.kill('SIGUSR2');
    await until('jmp-ssh wrote its CPU profile', () => existsSync(file) || null, 30_000);
    log(`jmp-ssh CPU profile of the typing rounds: ${file}`);
  };
  try {
    let target: Target;
    let aliceId: number;
    if (TARGET_KIND === 'echo') {
      lab = await startLab({ hosts: ['t1'], agentCommand: () => null });
      const t1: LabHost = lab.host('t1');
      api = await startApi({ listenHost: '127.0.0.1' });
      const hostKey = generateEd25519KeyPair();
      const hostKeyFile = join(tmp, 'echo_host_key');
      writeFileSync(hostKeyFile, hostKey.private, { mode: 0o600 });
      const svc = await addService(api.db, (await addProject(api.db)).id);
      const host = await addHost(api.db, {
        hostname: 't1',
        service_id: svc.id,
        addresses: [t1.address],
        ssh_host_keys: [hostKey.public.split(' ').slice(0, 2).join(' ')],
      });
      aliceId = (await addUser(api.db, { username: 'alice' })).id;
      await addGrant(api.db, { subject_id: aliceId, scope_type: 'host', scope_id: host.id, right: 'login' });
      const secret = `direct-${Math.random().toString(36).slice(2)}${Date.now()}`;
      const echoProc = spawn(
        'ip',
        [
          'netns',
          'exec',
          t1.namespace,
          process.execPath,
          '--import',
          'tsx',
          join(HERE, 'echo-target.ts'),
          hostKeyFile,
          t1.address,
          String(ECHO_PORT),
          't1',
        ],
        { env: { ...process.env, BENCH_DIRECT_SECRET: secret }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      echo = echoProc;
      await new Promise<void>((resolve, reject) => {
        echoProc.once('exit', (c) => reject(new Error(`echo target exited with ${c}`)));
        echoProc.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('listening')) resolve();
        });
      });
      target = {
        name: 't1',
        address: t1.address,
        port: ECHO_PORT,
        prompt: String.raw`alice@t1:~\$ $`,
        direct: { password: secret, hostKey: hostKey.public.split(' ')[1]! },
        pids: () => namespacePids(t1.namespace),
      };
    } else {
      stack = await startJumpStack({
        agentConf: { log: { level: 'warn' } },
        prepare: (h) => allowPublicKeyLogin(h, 'alice', personKey.line),
      });
      api = stack.api;
      const h1 = stack.lab.host('h1');
      aliceId = await stack.addPerson({ username: 'alice', right: 'login', host: 'h1' });
      await stack.syncHosts(['alice']);
      target = {
        name: 'h1',
        address: h1.address,
        port: 22,
        prompt: String.raw`alice@h1:[^\r\n]*\$ $`,
        direct: { privateKey: person.private, hostKey: h1.sshHostKey.split(' ')[1]! },
        pids: () => namespacePids(h1.namespace),
      };
    }
    await api
      .db('user_ssh_keys')
      .insert({ user_id: aliceId, public_key: personKey.line, fingerprint: personKey.fingerprint });
    // jmp-ssh's own event-loop delay and GC pauses, to read the echo tail by (loop-monitor.mjs).
    const monitorFile = join(tmp, 'loop-monitor.jsonl');
    // BENCH_SSH_CPU_PROFILE=FILE: jmp-ssh's CPU profile over the typing rounds (cpu-profile.mjs).
    const profileFile = process.env.BENCH_SSH_CPU_PROFILE;
    process.env.BENCH_NODE_FLAGS = [
      process.env.BENCH_NODE_FLAGS ?? '',
      '--import',
      join(HERE, 'loop-monitor.mjs'),
      ...(profileFile ? ['--import', join(HERE, 'cpu-profile.mjs')] : []),
    ]
      .join(' ')
      .trim();
    jmp = await startJmpSshProcess(api, tmp, {
      BENCH_LOOP_MONITOR_FILE: monitorFile,
      JMP_SSH_TARGET_PORT: String(target.port),
      JMP_SSH_MAX_SESSIONS_PER_USER: String(SESSIONS + WARMUP_SESSIONS + 10),
      JMP_SSH_MAX_CONNECTIONS: String(SESSIONS + WARMUP_SESSIONS + 100),
    });
    relay = await startRelay(tmp, personKey.line, target);
    log(
      `target: ${TARGET_KIND === 'echo' ? 'minimal ssh2 echo server (echo-target.ts) in a lab namespace' : 'real lab sshd (pam_jmp, jmp-agent)'} at ${target.address}:${target.port}; ${SESSIONS} sessions per side, a key every ${INTERVAL_MS} ms each for ${TYPE_SECONDS} s a round`,
    );
    people = new People();
    const base = {
      host: target.address,
      port: target.port,
      username: 'alice',
      prompt: target.prompt,
      concurrency: CONCURRENCY,
    };
    const viaJmp: OpenSpec = {
      ...base,
      group: 'jmp',
      via: 'jmp',
      host: '127.0.0.1',
      port: jmp.port,
      privateKey: person.private,
      target: target.name,
      count: SESSIONS,
    };
    const viaRelay: OpenSpec = {
      ...base,
      group: 'relay',
      via: 'relay',
      host: '127.0.0.1',
      port: relay.port,
      privateKey: person.private,
      count: SESSIONS,
    };

    // Warm-up (code paths compiled, pools grown), then jmp-ssh's memory at rest.
    await people.open({ ...viaJmp, group: 'warm-up', count: WARMUP_SESSIONS });
    await people.type({ group: 'warm-up', seconds: 2, intervalMs: INTERVAL_MS });
    await people.close('warm-up');
    await until(
      'warm-up sessions ended in jmp-api',
      async () =>
        Number((await api!.db('sessions').whereNotNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n) >=
        WARMUP_SESSIONS
          ? true
          : null,
      30_000,
    );
    const rssBefore = await rssSettled(jmp.proc.pid!);
    log(`jmp-ssh at rest after ${WARMUP_SESSIONS} warm-up sessions: ${rssBefore} MB`);

    // Both sets open; they stay open while the typing rounds alternate.
    const r0 = await people.open(viaRelay);
    log(`${r0.opened} sessions through the relay open in ${r0.ms} ms`);
    const targetCpu0 = (await target.pids()).reduce((s, p) => {
      try {
        return s + cpuSeconds(p);
      } catch {
        return s;
      }
    }, 0);
    const o = await people.open(viaJmp);
    log(
      `${o.opened} sessions through jmp-ssh open in ${o.ms} ms (${(o.opened / (o.ms / 1000)).toFixed(1)}/s); jmp-ssh RSS ${rssMb(jmp.proc.pid!)} MB`,
    );
    const targetPids = await target.pids();
    log(
      `target side: ${targetPids.length} processes, ${pssMb(targetPids)} MB (PSS) with ${r0.opened + o.opened} sessions open`,
    );
    const live = Number((await api.db('sessions').whereNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n);
    if (live !== SESSIONS) throw new Error(`${live} live sessions in jmp-api for ${SESSIONS} opened`);

    const expectKeys = SESSIONS * Math.floor((TYPE_SECONDS * 1000) / INTERVAL_MS) * 0.8;
    const typeRound =
      (group: string, pid: number, after?: (from: number, to: number) => void) =>
      async (r: number): Promise<Round> => {
        const cpu0 = cpuSeconds(pid);
        const t0 = performance.now();
        const wall0 = Date.now();
        const t = await people!.type({
          group,
          seconds: r ? TYPE_SECONDS : WARMUP_TYPE_SECONDS,
          intervalMs: INTERVAL_MS,
        });
        const cpuS = cpuSeconds(pid) - cpu0;
        after?.(wall0, Date.now());
        if (t.lost) throw new Error(`${t.lost} keys never echoed through the ${group} sessions`);
        if (r && t.keys < expectKeys)
          throw new Error(
            `only ${t.keys} keys typed through the ${group} sessions (expected ≥ ${Math.round(expectKeys)}): the typing pace was not held`,
          );
        return {
          ...t,
          cpuS: round3(cpuS),
          cores: round3(cpuS / ((performance.now() - t0) / 1000)),
          cpuPerKeyUs: +((cpuS / t.keys) * 1e6).toFixed(1),
        };
      };
    const loopLog = (from: number, to: number) => {
      const loop = loopSummary(monitorFile, from, to);
      log(
        `jmp-ssh event loop: delay max ${loop.maxMs} ms, ${loop.slowWindows} of ${loop.windows} half-seconds with a stall > 20 ms; GC pauses > 10 ms: ${loop.gc.length} (max ${Math.max(0, ...loop.gc)} ms, total ${loop.gc.reduce((a, b) => a + b, 0).toFixed(0)} ms)`,
      );
    };
    if (profileFile) {
      jmp.proc.kill('SIGUSR2');
      profiling = { file: profileFile, proc: jmp.proc };
    }
    const rounds = await alternate<Round, Round>({
      bench: 'ssh-sessions',
      rounds: roundCount(),
      a: { name: 'relay', run: typeRound('relay', relay.proc.pid!) },
      b: { name: 'jmp-ssh', run: typeRound('jmp', jmp.proc.pid!, loopLog) },
      describe: (f) =>
        `${f.keys} keys, echo p50 ${f.p50} ms, p99 ${f.p99} ms, max ${f.max} ms; ${f.cpuS} CPU s (${f.cores} cores) = ${f.cpuPerKeyUs} µs per key`,
    });
    await stopProfile();
    const rssAfter = await rssSettled(jmp.proc.pid!);
    log(
      `jmp-ssh RSS ${rssBefore} MB → ${rssAfter} MB with ${SESSIONS} sessions open: ${((rssAfter - rssBefore) / SESSIONS).toFixed(3)} MB per session`,
    );
    const targetCpu =
      (await target.pids()).reduce((s, p) => {
        try {
          return s + cpuSeconds(p);
        } catch {
          return s;
        }
      }, 0) - targetCpu0;
    log(`target processes used ${targetCpu.toFixed(1)} CPU s for the ${SESSIONS} jmp logins and all typing`);

    const t1 = performance.now();
    await people.close('jmp');
    await people.close('relay');
    await until(
      'every session ended in jmp-api',
      async () =>
        Number((await api!.db('sessions').whereNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n) === 0
          ? true
          : null,
      60_000,
      250,
    );
    log(`all sessions closed and recorded as ended in ${Math.round(performance.now() - t1)} ms`);

    const cpuRatio = medianRatio(
      rounds,
      (b) => b.cpuPerKeyUs,
      (a) => a.cpuPerKeyUs,
    );
    const med = (xs: Round[], f: (r: Round) => number) => +median(xs.map(f)).toFixed(2);
    const echoP99 = med(rounds.b, (r) => r.p99);
    goal(
      'ssh-sessions',
      'jmp-ssh CPU per echoed key / bare relay',
      cpuRatio,
      cpuRatio <= TARGET_CPU_RATIO,
      `≤ ${TARGET_CPU_RATIO}`,
    );
    goal(
      'ssh-sessions',
      `echo p99 with ${SESSIONS} sessions (median of rounds), ms`,
      echoP99,
      echoP99 <= TARGET_P99_MS,
      `≤ ${TARGET_P99_MS}`,
    );
    result('ssh-sessions', {
      cpu_ratio: cpuRatio,
      echo_p99_ms: echoP99,
      sessions: SESSIONS,
      cpu_per_key_us: med(rounds.b, (r) => r.cpuPerKeyUs),
      relay_cpu_per_key_us: med(rounds.a, (r) => r.cpuPerKeyUs),
      relay_echo_p99_ms: med(rounds.a, (r) => r.p99),
      echo_p50_ms: med(rounds.b, (r) => r.p50),
      rss_per_session_mb: +((rssAfter - rssBefore) / SESSIONS).toFixed(3),
      rounds: rounds.rounds,
      type_seconds: TYPE_SECONDS,
      target: TARGET_KIND,
    });
  } catch (err) {
    // With the real sshd, its and the agent's view of a refused login.
    for (const h of stack?.lab.hosts ?? []) {
      for (const f of [h.sshdLog, h.agentLog]) {
        try {
          log(`tail of ${f}:\n${readFileSync(f, 'utf8').split('\n').slice(-25).join('\n')}`);
        } catch {
          /* no log */
        }
      }
    }
    throw err;
  } finally {
    await stopProfile().catch((err: unknown) => log(`no CPU profile: ${(err as Error).message}`));
    await people?.end();
    if (jmp) await stop(jmp.proc);
    if (relay) await stop(relay.proc);
    if (echo) await stop(echo);
    if (stack) await stack.close();
    else await api?.close();
    await lab?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`ssh-sessions failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
