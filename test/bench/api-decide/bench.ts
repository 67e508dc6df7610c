// api-decide: POST /v1/pam/decide (ticketless account op) on a seeded
// organisation of 10,000 hosts, 5,000 users and 100,000 grants, against a bare
// express GET measured in the same run; plus the server time of a 5,000-user
// policy snapshot. Alternating rounds, median of per-round ratios
// (test/bench/README.md); last line {"bench":"api-decide","ratio":…,"p99_ratio":…,…}.
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { createTestDatabase } from '../../../services/api/test/harness.js';
import { hostIdentity } from '../../../services/api/test/host-identity.js';
import { createDb, migrate } from '../../../services/api/src/db/knex.js';
import { freePort, startNode, stop, waitForHttp } from '../lib/process.js';
import { alternate, goal, median, medianRatio, result, roundCount } from '../lib/method.js';

const HOSTS = 10_000,
  USERS = 5_000,
  GRANTS = 100_000,
  DEPTS = 100;
const DURATION = Number(process.env.BENCH_SECONDS ?? 10),
  CONNECTIONS = 50;

async function seed(url: string, agentKeyPem: string): Promise<void> {
  const db = createDb(url);
  await migrate(db);
  const t0 = Date.now();
  await db.raw(`INSERT INTO departments (name) VALUES ('all')`);
  await db.raw(
    `INSERT INTO departments (name, parent_id) SELECT 'dept-' || i, 1 FROM generate_series(1, ${DEPTS - 1}) i`,
  );
  await db.raw(
    `INSERT INTO users (username, display_name, department_id) SELECT 'user' || i, 'User ' || i, 2 + (i % ${DEPTS - 1}) FROM generate_series(1, ${USERS}) i`,
  );
  await db.raw(`INSERT INTO projects (name) SELECT 'project-' || i FROM generate_series(1, 50) i`);
  await db.raw(
    `INSERT INTO services (project_id, name) SELECT 1 + (i % 50), 'service-' || i FROM generate_series(1, 200) i`,
  );
  await db.raw(
    `INSERT INTO hosts (hostname, addresses, state, service_id, agent_public_key) SELECT 'host-' || i, '["10.0.0.1"]', CASE WHEN i % 3 = 0 THEN 'offline' ELSE 'online' END, 1 + (i % 200), ? FROM generate_series(1, ${HOSTS}) i`,
    [agentKeyPem],
  );
  await db.raw(
    `INSERT INTO roles (user_id, scope_type, scope_id, role) SELECT 1 + (i * 7) % ${USERS}, CASE WHEN i % 2 = 0 THEN 'service' ELSE 'project' END, CASE WHEN i % 2 = 0 THEN 1 + i % 200 ELSE 1 + i % 50 END, CASE WHEN i % 3 = 0 THEN 'ops' ELSE 'owner' END FROM generate_series(1, 2000) i ON CONFLICT DO NOTHING`,
  );
  // 100,000 grants: persons and departments, on hosts, services and projects, some expired.
  await db.raw(`INSERT INTO grants (subject_type, subject_id, scope_type, scope_id, "right", valid_from, valid_until, origin)
    SELECT CASE WHEN i % 10 = 0 THEN 'department' ELSE 'user' END,
           CASE WHEN i % 10 = 0 THEN 2 + i % ${DEPTS - 1} ELSE 1 + (i * 13) % ${USERS} END,
           CASE WHEN i % 5 < 3 THEN 'host' WHEN i % 5 = 3 THEN 'service' ELSE 'project' END,
           CASE WHEN i % 5 < 3 THEN 1 + (i * 31) % ${HOSTS} WHEN i % 5 = 3 THEN 1 + (i * 17) % 200 ELSE 1 + (i * 11) % 50 END,
           CASE WHEN i % 4 = 0 THEN 'root' ELSE 'login' END,
           now() - interval '1 day',
           CASE WHEN i % 7 = 0 THEN now() - interval '1 hour' WHEN i % 7 = 1 THEN NULL ELSE now() + interval '30 days' END,
           'admin'
    FROM generate_series(1, ${GRANTS - 1}) i`);
  // The policy host: the whole organisation (department "all") may log in to host 1.
  await db.raw(
    `INSERT INTO grants (subject_type, subject_id, scope_type, scope_id, "right", origin) VALUES ('department', 1, 'host', 1, 'login', 'admin')`,
  );
  await db.raw('ANALYZE');
  process.stderr.write(`bench: seeded ${HOSTS} hosts, ${USERS} users, ${GRANTS} grants in ${Date.now() - t0} ms\n`);
  await db.destroy();
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const id = hostIdentity();
  const apiPort = await freePort(),
    basePort = await freePort();
  const procs = [];
  try {
    await seed(database.url, id.publicKeyPem);
    if (process.env.BENCH_SEED_ONLY) return;
    const api = startNode(
      [process.env.BENCH_API_ENTRY ?? 'dist/jmp-api.mjs', 'serve'],
      {
        DATABASE_URL: database.url,
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        JMP_SECRET_KEY: randomBytes(32).toString('hex'),
        JMP_API_PORT: String(apiPort),
        JMP_LOG_LEVEL: 'warn',
        JMP_DB_POOL_MAX: process.env.JMP_DB_POOL_MAX ?? '10',
      },
      process.env.BENCH_API_NODE_FLAGS,
    );
    const base = startNode(['test/bench/lib/baseline-express.ts'], { PORT: String(basePort) });
    procs.push(api, base);
    await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`);
    await waitForHttp(`http://127.0.0.1:${basePort}/baseline`);

    // Tokens for 200 hosts (they share the bench's agent key). A host token lives at most 60 s, less than the
    // whole run: they are made again before every decide round.
    const mintTokens = () => Array.from({ length: 200 }, (_, i) => ({ host: 1 + i * 50, auth: id.token(1 + i * 50) }));
    let tokens = mintTokens();
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const probe = await fetch(`${apiUrl}/v1/pam/decide`, {
      method: 'POST',
      headers: { authorization: tokens[0]!.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ op: 'account', user: 'user1' }),
    });
    if (probe.status !== 200) throw new Error(`decide probe answered ${probe.status}: ${await probe.text()}`);

    // Policy snapshot for the host 5,000 users may log in to: server time from Server-Timing.
    const policyTimes: number[] = [];
    let policyUsers = 0;
    for (let i = 0; i < 7; i++) {
      const r = await fetch(`${apiUrl}/v1/agents/policy`, { headers: { authorization: id.token(1) } });
      const body = (await r.json()) as { users: unknown[] };
      policyUsers = body.users.length;
      policyTimes.push(Number(/dur=([\d.]+)/.exec(r.headers.get('server-timing') ?? '')?.[1]));
    }
    policyTimes.sort((a, b) => a - b);
    const policyMs = policyTimes[Math.floor(policyTimes.length / 2)]!;
    process.stderr.write(
      `bench: policy snapshot for host-1: ${policyUsers} users, median ${policyMs} ms server time\n`,
    );

    const common = { connections: CONNECTIONS, duration: DURATION, pipelining: 1 } as const;
    let n = 0;
    const decideRequest = {
      method: 'POST' as const,
      path: '/v1/pam/decide',
      setupRequest: (req: any) => {
        const t = tokens[n++ % tokens.length]!;
        return {
          ...req,
          headers: { authorization: t.auth, 'content-type': 'application/json' },
          body: JSON.stringify({ op: 'account', user: `user${1 + ((n * 7919) % USERS)}` }),
        };
      },
    };
    type Fig = { rps: number; p50: number; p99: number };
    const fig = (r: autocannon.Result): Fig => ({
      rps: Math.round(r.requests.average),
      p50: r.latency.p50,
      p99: r.latency.p99,
    });
    // Alternating rounds (test/bench/README.md): bare express, decide, bare express, decide, …
    const rounds = await alternate<Fig, Fig>({
      bench: 'api-decide',
      rounds: roundCount(),
      a: {
        name: 'bare express',
        run: async (r) =>
          fig(await run({ url: `http://127.0.0.1:${basePort}/baseline`, ...common, duration: r ? DURATION : 2 })),
      },
      b: {
        name: 'decide',
        run: async (r) => {
          tokens = mintTokens();
          const res = await run({ url: apiUrl, ...common, duration: r ? DURATION : 2, requests: [decideRequest] });
          const errors = res.errors + res.non2xx;
          if (errors > 0)
            throw new Error(`${errors} failed decide requests (errors ${res.errors}, non-2xx ${res.non2xx})`);
          return fig(res);
        },
      },
      describe: (f) => `${f.rps} req/s, p50 ${f.p50} ms, p99 ${f.p99} ms`,
    });
    const ratio = medianRatio(
      rounds,
      (b) => b.rps,
      (a) => a.rps,
    );
    const p99Ratio = medianRatio(
      rounds,
      (b) => b.p99,
      (a) => a.p99,
    );
    const rps = median(rounds.b.map((f) => f.rps)),
      baseRps = median(rounds.a.map((f) => f.rps));
    const p99 = median(rounds.b.map((f) => f.p99)),
      baseP99 = median(rounds.a.map((f) => f.p99));
    goal('api-decide', 'decide rps / bare express rps', ratio, ratio >= 0.5, '≥ 0.5');
    goal('api-decide', 'decide p99 / bare express p99', p99Ratio, p99Ratio <= 2, '≤ 2.0');
    result('api-decide', {
      ratio,
      p99_ratio: p99Ratio,
      rps,
      baseline_rps: baseRps,
      p99_ms: p99,
      baseline_p99_ms: baseP99,
      rounds: rounds.rounds,
      seconds: DURATION,
      policy_ms: policyMs,
    });
  } finally {
    for (const p of procs) await stop(p);
    if (process.env.BENCH_KEEP_DB) process.stderr.write(`bench: kept ${database.url}\n`);
    else await database.drop();
  }
}

main().catch((err) => {
  process.stderr.write(`bench api-decide failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
