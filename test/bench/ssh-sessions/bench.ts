// ssh-sessions: many concurrent interactive target sessions through ONE
// jmp-ssh process (the bundle, its limits raised through its environment),
// every person typing at a steady pace; keystroke-to-echo latency and
// jmp-ssh's memory per session.
//
//   people   a child process (load.ts) with BENCH_SESSIONS ssh2 clients:
//            public-key login to jmp-ssh, pty 120x40, `ssh t1` in the jump
//            shell; then each sends one key every BENCH_KEY_INTERVAL_MS
//            (letter, Backspace, letter, …), one key in flight per session.
//   jmp-ssh  every session goes through the full path: ticket and session
//            registration in jmp-api, command guard (a headless terminal per
//            session), recorder (asciicast, gzip, local disk), heartbeats.
//   target   BENCH_SESSIONS_TARGET=echo (default): one ssh2 server process
//            (echo-target.ts) inside a lab namespace, registered in jmp-api
//            like an enrolled host (address, SSH host key), answering the
//            "jmp ticket: " prompt and echoing a pty shell. jmp-ssh's code
//            path is the same as with sshd: only the process at the other
//            end of its target connection differs. Why not real sshd, as
//            measured on this 2-core machine (BENCH_SESSIONS_TARGET=sshd):
//            each session is 3 processes (sshd monitor, sshd user child,
//            bash), 300 sessions = 903 processes and ~870 MB PSS; with 1,000
//            the target side alone pushes the DIRECT baseline's echo p99 to
//            22-42 ms (bash and sshd compete with everything else for the
//            two cores), so the figure would measure the target, not
//            jmp-ssh; and while 1,000 sessions tear down, that sshd drops
//            new connections before its banner, failing the next logins.
//            BENCH_SESSIONS_TARGET=sshd runs the real lab sshd (pam_jmp,
//            real jmp-agent) for smaller counts (300: echo p99 4.8 ms).
//   baseline the same number of sessions straight to the same target (no
//            jmp-ssh), typing the same way, in the same run.
// RSS: jmp-ssh's VmRSS at rest after a warm-up, and after the typing phase
// with every session open; per session = (after − before) / sessions.
// Targets: echo p99 < 50 ms. Missing a target is reported on stderr; a
// session that cannot be opened or a key that never echoes fails (exit 1).
// Last line: {"bench":"ssh-sessions","sessions":…,"echo_p99_ms":…,"rss_per_session_mb":…}
import { execFile, fork, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLab, type Lab, type LabHost } from '../../lab/lab.js';
import { addGrant, addHost, addProject, addService, addUser, startApi, type TestApi } from '../../../services/api/test/harness.js';
import { parseSshPublicKey } from '../../../services/common/src/ssh-key.js';
import { allowPublicKeyLogin, startJmpSshProcess, startJumpStack, until, type JmpSshProcess, type JumpStack } from '../../e2e/helpers.js';
import { stop } from '../lib/process.js';
import type { OpenSpec, TypeSpec } from './load.js';
import { generateEd25519KeyPair } from '../../../services/ssh/src/server/host-key.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1000);
const TARGET_KIND = process.env.BENCH_SESSIONS_TARGET ?? 'echo';
const INTERVAL_MS = Number(process.env.BENCH_KEY_INTERVAL_MS ?? 500);
const TYPE_SECONDS = Number(process.env.BENCH_TYPE_SECONDS ?? 15);
const CONCURRENCY = Number(process.env.BENCH_OPEN_CONCURRENCY ?? 32);
const WARMUP_SESSIONS = 20;
const TARGET_P99_MS = 50;
const ECHO_PORT = 2222;
const run = promisify(execFile);
const log = (m: string): void => void process.stderr.write(`ssh-sessions: ${m}\n`);

/** VmRSS of a process in MB. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return +(Number(m[1]) / 1024).toFixed(1);
}

/** CPU seconds (user + system) a process has used. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
}

/** Every process in a lab host's network namespace. */
async function namespacePids(ns: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', ns]);
  return stdout.split('\n').filter(Boolean).map(Number);
}

/** Proportional set size (shared pages split among their users) of processes, in MB. */
function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try { kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
  }
  return Math.round(kb / 1024);
}

/** RSS once two readings 2 s apart agree within 2% (V8 returns garbage some seconds after a burst), at most 20 s. */
async function rssAtRest(pid: number): Promise<number> {
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
function loopSummary(file: string, from: number, to: number): { maxMs: number; windows: number; slowWindows: number; gc: number[] } {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { /* no monitor output */ }
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { t: number; maxMs: number; gcMs: number[] }).filter((l) => l.t > from && l.t <= to + 500);
  return { maxMs: Math.max(0, ...lines.map((l) => l.maxMs)), windows: lines.length, slowWindows: lines.filter((l) => l.maxMs > 20).length, gc: lines.flatMap((l) => l.gcMs) };
}

/** The load child: one request at a time over IPC. */
class People {
  private readonly child: ChildProcess;
  constructor() {
    this.child = fork(join(HERE, 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }
  private ask<T>(msg: object): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the load process exited (${code})`));
      this.child.once('exit', onExit);
      this.child.once('message', (r: { ok: boolean; error?: string } & T) => {
        this.child.removeListener('exit', onExit);
        if (r.ok) resolve(r); else reject(new Error(`load: ${r.error}`));
      });
      this.child.send(msg);
    });
  }
  open(spec: OpenSpec) { return this.ask<{ opened: number; ms: number }>({ cmd: 'open', ...spec }); }
  type(spec: TypeSpec) { return this.ask<{ keys: number; p50: number; p99: number; max: number; lost: number }>({ cmd: 'type', ...spec }); }
  close() { return this.ask<object>({ cmd: 'close' }); }
  async end(): Promise<void> { if (this.child.connected) this.child.disconnect(); await stop(this.child); }
}

interface Target { name: string; address: string; port: number; prompt: string; direct: Pick<OpenSpec, 'password' | 'privateKey' | 'hostKey'>; pids(): Promise<number[]> }

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
  let people: People | undefined;
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
      const host = await addHost(api.db, { hostname: 't1', service_id: svc.id, addresses: [t1.address], ssh_host_keys: [hostKey.public.split(' ').slice(0, 2).join(' ')] });
      aliceId = (await addUser(api.db, { username: 'alice' })).id;
      await addGrant(api.db, { subject_id: aliceId, scope_type: 'host', scope_id: host.id, right: 'login' });
      const secret = `direct-${Math.random().toString(36).slice(2)}${Date.now()}`;
      const echoProc = spawn('ip', ['netns', 'exec', t1.namespace, process.execPath, '--import', 'tsx', join(HERE, 'echo-target.ts'), hostKeyFile, t1.address, String(ECHO_PORT), 't1'],
        { env: { ...process.env, BENCH_DIRECT_SECRET: secret }, stdio: ['ignore', 'pipe', 'inherit'] });
      echo = echoProc;
      await new Promise<void>((resolve, reject) => {
        echoProc.once('exit', (c) => reject(new Error(`echo target exited with ${c}`)));
        echoProc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('listening')) resolve(); });
      });
      target = {
        name: 't1', address: t1.address, port: ECHO_PORT, prompt: String.raw`alice@t1:~\$ $`,
        direct: { password: secret, hostKey: hostKey.public.split(' ')[1]! },
        pids: () => namespacePids(t1.namespace),
      };
    } else {
      stack = await startJumpStack({ agentConf: { log: { level: 'warn' } }, prepare: (h) => allowPublicKeyLogin(h, 'alice', personKey.line) });
      api = stack.api;
      const h1 = stack.lab.host('h1');
      aliceId = await stack.addPerson({ username: 'alice', right: 'login', host: 'h1' });
      await stack.syncHosts(['alice']);
      target = {
        name: 'h1', address: h1.address, port: 22, prompt: String.raw`alice@h1:[^\r\n]*\$ $`,
        direct: { privateKey: person.private, hostKey: h1.sshHostKey.split(' ')[1]! },
        pids: () => namespacePids(h1.namespace),
      };
    }
    await api.db('user_ssh_keys').insert({ user_id: aliceId, public_key: personKey.line, fingerprint: personKey.fingerprint });
    // jmp-ssh's own event-loop delay and GC pauses, to read the echo tail by (loop-monitor.mjs).
    const monitorFile = join(tmp, 'loop-monitor.jsonl');
    process.env.BENCH_NODE_FLAGS = [process.env.BENCH_NODE_FLAGS ?? '', '--import', join(HERE, 'loop-monitor.mjs')].join(' ').trim();
    jmp = await startJmpSshProcess(api, tmp, {
      BENCH_LOOP_MONITOR_FILE: monitorFile,
      JMP_SSH_TARGET_PORT: String(target.port),
      JMP_SSH_MAX_SESSIONS_PER_USER: String(SESSIONS + WARMUP_SESSIONS + 10),
      JMP_SSH_MAX_CONNECTIONS: String(SESSIONS + WARMUP_SESSIONS + 100),
    });
    log(`target: ${TARGET_KIND === 'echo' ? 'minimal ssh2 echo server (echo-target.ts) in a lab namespace' : 'real lab sshd (pam_jmp, jmp-agent)'} at ${target.address}:${target.port}; ${SESSIONS} sessions, a key every ${INTERVAL_MS} ms each for ${TYPE_SECONDS} s`);
    people = new People();
    const base = { host: target.address, port: target.port, username: 'alice', prompt: target.prompt, concurrency: CONCURRENCY };
    const viaJmp: OpenSpec = { ...base, via: 'jmp', host: '127.0.0.1', port: jmp.port, privateKey: person.private, target: target.name, count: SESSIONS };
    const typing: TypeSpec = { seconds: TYPE_SECONDS, intervalMs: INTERVAL_MS };

    // Baseline: the same sessions straight to the target.
    const d = await people.open({ ...base, ...target.direct, via: 'direct', count: SESSIONS });
    log(`baseline: ${d.opened} direct sessions open in ${d.ms} ms`);
    const direct = await people.type(typing);
    log(`baseline: ${direct.keys} keys, echo p50 ${direct.p50} ms, p99 ${direct.p99} ms, max ${direct.max} ms, lost ${direct.lost}`);
    await people.close();
    if (direct.lost) throw new Error(`${direct.lost} keys never echoed on direct sessions`);

    // Warm-up (code paths compiled, pools grown), then jmp-ssh's memory at rest.
    await people.open({ ...viaJmp, count: WARMUP_SESSIONS });
    await people.type({ seconds: 2, intervalMs: INTERVAL_MS });
    await people.close();
    await until('warm-up sessions ended in jmp-api', async () => Number((await api!.db('sessions').whereNotNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n) >= WARMUP_SESSIONS ? true : null, 30_000);
    const rssBefore = await rssAtRest(jmp.proc.pid!);
    log(`jmp-ssh at rest after ${WARMUP_SESSIONS} warm-up sessions: ${rssBefore} MB`);

    const targetCpu0 = (await target.pids()).reduce((s, p) => { try { return s + cpuSeconds(p); } catch { return s; } }, 0);
    const o = await people.open(viaJmp);
    log(`${o.opened} sessions through jmp-ssh open in ${o.ms} ms (${(o.opened / (o.ms / 1000)).toFixed(1)}/s); jmp-ssh RSS ${rssMb(jmp.proc.pid!)} MB`);
    const targetPids = await target.pids();
    log(`target side: ${targetPids.length} processes, ${pssMb(targetPids)} MB (PSS) with ${o.opened} sessions open`);
    const live = Number((await api.db('sessions').whereNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n);
    if (live !== SESSIONS) throw new Error(`${live} live sessions in jmp-api for ${SESSIONS} opened`);
    const cpu0 = cpuSeconds(jmp.proc.pid!);
    const t0 = performance.now();
    const wall0 = Date.now();
    const viaJmpResult = await people.type(typing);
    const cpuCores = (cpuSeconds(jmp.proc.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    const loop = loopSummary(monitorFile, wall0, Date.now());
    const rssAfter = await rssAtRest(jmp.proc.pid!);
    log(`through jmp-ssh: ${viaJmpResult.keys} keys, echo p50 ${viaJmpResult.p50} ms, p99 ${viaJmpResult.p99} ms, max ${viaJmpResult.max} ms, lost ${viaJmpResult.lost}; jmp-ssh used ${cpuCores.toFixed(2)} cores while typing`);
    log(`jmp-ssh event loop while typing: delay max ${loop.maxMs} ms, ${loop.slowWindows} of ${loop.windows} half-seconds with a stall > 20 ms; GC pauses > 10 ms: ${loop.gc.length} (max ${Math.max(0, ...loop.gc)} ms, total ${loop.gc.reduce((a, b) => a + b, 0).toFixed(0)} ms)`);
    log(`jmp-ssh RSS ${rssBefore} MB → ${rssAfter} MB with ${SESSIONS} sessions open: ${((rssAfter - rssBefore) / SESSIONS).toFixed(3)} MB per session`);
    const targetCpu = (await target.pids()).reduce((s, p) => { try { return s + cpuSeconds(p); } catch { return s; } }, 0) - targetCpu0;
    log(`target processes used ${targetCpu.toFixed(1)} CPU s for the ${SESSIONS} logins and the typing`);
    if (viaJmpResult.lost) throw new Error(`${viaJmpResult.lost} keys never echoed through jmp-ssh`);
    const expectKeys = SESSIONS * Math.floor((TYPE_SECONDS * 1000) / INTERVAL_MS) * 0.8;
    if (viaJmpResult.keys < expectKeys) throw new Error(`only ${viaJmpResult.keys} keys typed through jmp-ssh (expected ≥ ${Math.round(expectKeys)}): the typing pace was not held`);

    const t1 = performance.now();
    await people.close();
    await until('every session ended in jmp-api', async () => Number((await api!.db('sessions').whereNull('ended_at').count<{ n: string }[]>({ n: '*' }))[0]?.n) === 0 ? true : null, 60_000, 250);
    log(`all sessions closed and recorded as ended in ${Math.round(performance.now() - t1)} ms`);

    const out = { bench: 'ssh-sessions', sessions: SESSIONS, echo_p99_ms: viaJmpResult.p99, rss_per_session_mb: +((rssAfter - rssBefore) / SESSIONS).toFixed(3), echo_p50_ms: viaJmpResult.p50, direct_echo_p99_ms: direct.p99, target: TARGET_KIND };
    log(`target echo p99 < ${TARGET_P99_MS} ms: ${out.echo_p99_ms < TARGET_P99_MS ? 'met' : 'MISSED'} (${out.echo_p99_ms} ms; direct ${direct.p99} ms)`);
    console.log(JSON.stringify(out));
  } catch (err) {
    // With the real sshd, its and the agent's view of a refused login.
    for (const h of stack?.lab.hosts ?? []) {
      for (const f of [h.sshdLog, h.agentLog]) {
        try { log(`tail of ${f}:\n${readFileSync(f, 'utf8').split('\n').slice(-25).join('\n')}`); } catch { /* no log */ }
      }
    }
    throw err;
  } finally {
    await people?.end();
    if (jmp) await stop(jmp.proc);
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
