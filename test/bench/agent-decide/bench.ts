// agent-decide: PAM decisions through the real jmp-agent's socket (the v1
// line protocol, agent/src/protocol/line.ts, one connection per decision,
// asked as root like pam_jmp), sequentially:
//   online   jmp-api up: the agent asks POST /v1/pam/decide (ticket checked,
//            jti consumed in Redis, grant re-checked, audited)
//   offline  jmp-api stopped: connect refused, decided from the snapshot
//            (ES256 signature, expiry, audience, spent-jti set on disk)
// The decision timed is `auth` with a fresh ticket (the login); `account` and
// `sudo` are reported too. Method of test/bench/README.md, alternating rounds:
//   online   straight to jmp-api (the agent's own HTTP client and host key,
//            same question) / through the agent: `online_ratio` (p99) ≤ 1.3
//   offline  a trivial line-protocol server (baseline-server.ts) / the
//            agent with jmp-api down: `offline_ratio` (p99) ≤ 1.5
// Agent RSS (absolute, `rss_mb` ≤ 60 MB): after 10,000 decisions and 60 s at
// rest (BENCH_REST_MS); the figure at the end of the burst is rss_burst_mb.
// The agent runs as a plain process with a temporary config (the same code as
// in a lab host), enrolled with `jmp-agent enroll`.
// A decision that is not the expected answer fails the bench (exit 1).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  addGrant,
  addProject,
  addService,
  addUser,
  startApi,
  type TestApi,
} from '../../../services/api/test/harness.js';
import { sha256hex } from '../../../services/api/src/crypto/secrets.js';
import { mintTicket } from '../../../services/api/src/tickets/tickets.js';
import { askAgent } from '../../../agent/src/cli/client.js';
import type { Request } from '../../../agent/src/protocol/line.js';
import { createAgentApi } from '../../../agent/src/api/client.js';
import { createHttpFetch } from '../../../agent/src/api/http.js';
import { HostTokenSigner } from '../../../agent/src/api/host-token.js';
import { loadAgentKey } from '../../../agent/src/enrol/keys.js';
import { alternate, goal, medianRatio, pct as pctOf, result, roundCount, rssAtRest } from '../lib/method.js';

const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const N = Number(process.env.BENCH_DECISIONS ?? 1000); // per round and side
const TOTAL = 10_000;
const WARMUP = 200;
const run = promisify(execFile);

const pct = (xs: number[], p: number): number => +pctOf(xs, p).toFixed(3);
const log = (m: string): void => void process.stderr.write(`agent-decide: ${m}\n`);

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rssMb(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return +(kb / 1024).toFixed(1);
}

let decisions = 0;
let agentSock = ''; // only the agent's decisions count towards the 10,000
/** One decision; returns its wall time in ms. Throws when the answer is not `want`. */
async function decide(sock: string, req: Request, want: { status: 'allow' | 'deny'; mode?: string }): Promise<number> {
  const t0 = performance.now();
  const r = await askAgent(sock, req, 5000).catch(async (err: Error) => {
    // A refused connect on a starved machine is retried once (and timed with it); a second refusal fails the bench.
    if (!/ECONNREFUSED|EAGAIN/.test(err.message)) throw err;
    log(`${req.op}: ${err.message}; retrying once`);
    await new Promise((res) => setTimeout(res, 20));
    return askAgent(sock, req, 5000);
  });
  const ms = performance.now() - t0;
  if (sock === agentSock) decisions++;
  const mode = 'mode' in r ? r.mode : undefined;
  if (r.status !== want.status || (want.mode && mode !== want.mode)) {
    throw new Error(
      `${req.op}: expected ${want.status}/${want.mode ?? '*'}, got ${r.status}/${mode ?? '-'} ${JSON.stringify(r.fields)}`,
    );
  }
  return ms;
}

async function series(n: number, fn: (i: number) => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn(i));
  return out;
}

function stopChild(c: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('agent-decide asks PAM operations: run it as root');
  const dir = mkdtempSync(join(tmpdir(), 'jmp-bench-agent-'));
  const procs: ChildProcess[] = [];
  let api: TestApi | undefined;
  try {
    api = await startApi({ listenHost: '127.0.0.1' });
    const project = await addProject(api.db);
    const svc = await addService(api.db, project.id);
    const alice = await addUser(api.db, { username: 'alice' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'service', scope_id: svc.id, right: 'root' }); // root includes login

    // The agent, entirely inside `dir`.
    const sock = join(dir, 'agent.sock');
    agentSock = sock;
    const conf = join(dir, 'agent.conf');
    writeFileSync(
      conf,
      JSON.stringify({
        socket: { path: sock },
        stateDir: join(dir, 'state'),
        keyFile: join(dir, 'agent.key'),
        sshHostKeyFiles: [],
        policy: { intervalMs: 30_000, jitterMs: 0 },
        guard: { enabled: false },
        log: { level: 'warn' },
      }),
    );
    const token = `jmpe_${randomBytes(32).toString('base64url')}`;
    await api.db('enrolment_tokens').insert({
      token_hash: sha256hex(token),
      service_id: svc.id,
      max_uses: 1,
      expires_at: new Date(Date.now() + 3600_000),
    });
    // The bundle (scripts/bundle.mjs), as packages install it: plain node, no tsx.
    // With the Node flags the packages install (agent/node-flags); BENCH_AGENT_NODE_FLAGS overrides them.
    const nodeFlags = process.env.BENCH_AGENT_NODE_FLAGS ?? readFileSync(join(REPO, 'agent/node-flags'), 'utf8').trim();
    const agentArgs = [
      ...nodeFlags.split(/\s+/).filter(Boolean),
      process.env.BENCH_AGENT_BUNDLE ?? 'dist/jmp-agent.mjs',
    ];
    await run(
      process.execPath,
      [
        ...agentArgs,
        'enroll',
        '--config',
        conf,
        '--api',
        api.url,
        '--token',
        token,
        '--hostname',
        'bench-agent',
        '--address',
        '127.0.0.1',
      ],
      { cwd: REPO },
    );
    const host = await api.db('hosts').where({ hostname: 'bench-agent' }).first();
    const agent = spawn(process.execPath, [...agentArgs, 'run', '--config', conf], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    // stdout (pino, warn and up: every degraded decision is logged) is discarded; a log file would add disk writes the bench does not aim at.
    procs.push(agent);
    await until('the agent socket', () => existsSync(sock));
    await until('a policy snapshot', () => existsSync(join(dir, 'state', 'policy.json')));
    const pid = agent.pid!;
    const rssStart = rssMb(pid);

    // Offline baseline: the socket round trip with a server that answers at once.
    const baseSock = join(dir, 'baseline.sock');
    const base = spawn(process.execPath, ['--import', 'tsx', 'test/bench/agent-decide/baseline-server.ts', baseSock], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    procs.push(base);
    let listening = false;
    base.stdout!.on('data', (d: Buffer) => {
      if (d.includes('listening')) listening = true;
    });
    base.on('exit', (code, sig) => {
      if (code || (sig && sig !== 'SIGTERM')) log(`the baseline server exited with ${code ?? sig}`);
    });
    await until('the baseline server listening', () => listening);

    // Online baseline: the same question straight to jmp-api with the agent's own HTTP client and host key.
    const key = loadAgentKey(join(dir, 'agent.key'));
    const direct = createAgentApi({
      baseUrl: api.url,
      transport: createHttpFetch(),
      signer: new HostTokenSigner(key.privateKey, host.id),
      requestTimeoutMs: 5000,
      decideTimeoutMs: 5000,
    });
    const askDirect = async (ticket: string): Promise<number> => {
      const t0 = performance.now();
      const r = await direct.decide.pamDecide({
        op: 'auth',
        user: 'alice',
        service: 'sshd',
        rhost: '10.231.0.1',
        tty: 'ssh',
        ticket,
      });
      const ms = performance.now() - t0;
      if (!r.allow) throw new Error(`direct auth: expected allow, got ${r.reason}`);
      return ms;
    };

    const tickets = (n: number) =>
      Array.from({ length: n }, () => mintTicket(api!.ctx.ticketKeys, 'alice', host.id, 60).ticket);
    const auth = (ticket: string): Request => ({
      op: 'auth',
      user: 'alice',
      service: 'sshd',
      rhost: '10.231.0.1',
      tty: 'ssh',
      ticket,
    });
    const sudo: Request = { op: 'sudo', user: 'alice', runas: 'root', service: 'sudo', tty: 'pts/0' };
    const acct: Request = { op: 'account', user: 'alice', service: 'sshd', rhost: '10.231.0.1', tty: 'ssh' };
    const size = (r: number) => (r ? N : WARMUP);
    const describe = (xs: number[]) => `${xs.length} decisions, p50 ${pct(xs, 50)} ms, p99 ${pct(xs, 99)} ms`;
    const rounds = roundCount();

    // Online, alternating rounds: straight to jmp-api, through the agent (a fresh ticket each: the login).
    const online = await alternate<number[], number[]>({
      bench: 'agent-decide',
      rounds,
      describe,
      a: {
        name: 'online straight to jmp-api',
        run: async (r) => {
          const t = tickets(size(r));
          return series(t.length, (i) => askDirect(t[i]!));
        },
      },
      b: {
        name: 'online through the agent',
        run: async (r) => {
          const t = tickets(size(r));
          return series(t.length, (i) => decide(sock, auth(t[i]!), { status: 'allow', mode: 'online' }));
        },
      },
    });
    direct.close();
    const onlineAcct = await series(N, () => decide(sock, acct, { status: 'allow', mode: 'online' }));
    const onlineSudo = await series(N, () => decide(sock, sudo, { status: 'allow', mode: 'online' }));
    // A spent ticket is refused (functional check).
    const spent = tickets(1)[0]!;
    await decide(sock, auth(spent), { status: 'allow', mode: 'online' });
    await decide(sock, auth(spent), { status: 'deny', mode: 'online' });

    // Offline: jmp-api stops listening (connections refused); alternating with the trivial line-protocol server.
    api.server.close();
    api.server.closeAllConnections();
    let lastOffline = '';
    const offline = await alternate<number[], number[]>({
      bench: 'agent-decide',
      rounds,
      describe,
      a: {
        name: 'trivial line-protocol server',
        run: (r) => series(size(r), () => decide(baseSock, acct, { status: 'allow' })),
      },
      b: {
        name: 'offline through the agent',
        run: async (r) => {
          const t = tickets(size(r));
          lastOffline = t[0]!;
          return series(t.length, (i) => decide(sock, auth(t[i]!), { status: 'allow', mode: 'offline' }));
        },
      },
    });
    await decide(sock, auth(lastOffline), { status: 'deny', mode: 'offline' }); // replay, offline
    await stopChild(base);
    const offlineAcct = await series(N, () => decide(sock, acct, { status: 'allow', mode: 'offline' }));
    // 10,000 agent decisions in all, then the agent's resident memory, at rest (absolute: BENCH_REST_MS, 60 s).
    await series(Math.max(0, TOTAL - decisions), (i) =>
      decide(sock, i % 2 ? acct : sudo, { status: 'allow', mode: 'offline' }),
    );
    const rssBurst = rssMb(pid);
    const rss = await rssAtRest(pid);

    const onlineRatio = medianRatio(
      online,
      (b) => pct(b, 99),
      (a) => pct(a, 99),
    );
    const offlineRatio = medianRatio(
      offline,
      (b) => pct(b, 99),
      (a) => pct(a, 99),
    );
    const all = (xs: number[][]) => xs.flat();
    const r = {
      online_p99_ms: pct(all(online.b), 99),
      direct_p99_ms: pct(all(online.a), 99),
      offline_p99_ms: pct(all(offline.b), 99),
      baseline_p99_ms: pct(all(offline.a), 99),
    };
    log(
      `${rounds} rounds of ${N} decisions per side, sequential, one connection per decision; ${decisions} decisions in all`,
    );
    log(
      `online auth p99 ${r.online_p99_ms} ms (straight to jmp-api ${r.direct_p99_ms} ms); account p99 ${pct(onlineAcct, 99)} ms; sudo p99 ${pct(onlineSudo, 99)} ms`,
    );
    log(
      `offline auth p99 ${r.offline_p99_ms} ms (trivial server ${r.baseline_p99_ms} ms); account p99 ${pct(offlineAcct, 99)} ms`,
    );
    log(
      `agent VmRSS: ${rssStart} MB after start, ${rssBurst} MB after the burst, ${rss} MB after ${Number(process.env.BENCH_REST_MS ?? 60_000) / 1000} s at rest (the bundle with agent/node-flags)`,
    );
    goal('agent-decide', 'online p99 agent / straight to jmp-api', onlineRatio, onlineRatio <= 1.3, '≤ 1.3');
    goal('agent-decide', 'offline p99 agent / trivial server', offlineRatio, offlineRatio <= 1.5, '≤ 1.5');
    goal('agent-decide', 'RSS at rest MB', rss, rss <= 60, '≤ 60');
    result('agent-decide', {
      online_ratio: onlineRatio,
      offline_ratio: offlineRatio,
      rss_mb: rss,
      ...r,
      rss_burst_mb: rssBurst,
      rss_start_mb: rssStart,
      rounds,
      decisions,
    });
  } finally {
    for (const p of procs) await stopChild(p);
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`agent-decide failed: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
