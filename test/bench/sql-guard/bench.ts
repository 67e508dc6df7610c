// sql-guard: (1) the SQL guard on a 10,000-statement mixed corpus — each
// statement fed to a DbGuard as a line (split, parse, judge), p99 per
// statement (CPU time, so a busy neighbour does not decide it; wall time
// printed beside it) and statements per CPU second, in alternating rounds with the shell guard's
// judgeLine on the same text as the baseline; (2) the key echo of a database
// terminal (`mysql db1`) vs a shell terminal (`db1`) on the same lab host
// through the same jmp-ssh, alternating rounds, median of per-round ratios of
// the rounds' median echo times.
import type { ClientChannel } from 'ssh2';
import { DbGuard, DEMO_RULES, compileRules, judgeLine } from '@jmp/guard';
import { alternate, goal, medianRatio, pct, result, roundCount, round3, median } from '../lib/method.js';
import { startDbLab, type Term } from '../../e2e/db-lab.js';
import { corpus } from './corpus.js';

const BENCH = 'sql-guard';
const N = Number(process.env.BENCH_STATEMENTS ?? 10_000);
const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const rounds = roundCount();
const statements = corpus(N);
const rules = compileRules(DEMO_RULES);

interface GuardRound {
  /** CPU time per statement (ms): what a busy neighbour does not change. */
  ms: number[];
  /** Wall time per statement (ms), for the record. */
  wallMs: number[];
  perS: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function viaSqlGuard(): GuardRound {
  const g = new DbGuard({ dialect: 'mariadb' });
  const ms: number[] = [];
  const wallMs: number[] = [];
  let blocked = 0;
  const c0 = cpuMs();
  for (const s of statements) {
    const a = performance.now();
    const c = cpuMs();
    const r = g.input(Buffer.from(`${s}\n`));
    ms.push(cpuMs() - c);
    wallMs.push(performance.now() - a);
    blocked += r.blocked.length;
  }
  const total = cpuMs() - c0;
  if (blocked === 0 || g.pending)
    throw new Error('the corpus was not judged as expected (nothing blocked, or a statement left open)');
  return { ms, wallMs, perS: (N / total) * 1000 };
}

function viaShellGuard(): GuardRound {
  const ms: number[] = [];
  const wallMs: number[] = [];
  const c0 = cpuMs();
  for (const s of statements) {
    const a = performance.now();
    const c = cpuMs();
    judgeLine(s, 'input', { rules, budgetMs: 50, failOpen: false, now: () => performance.now(), onEvent: () => {} });
    ms.push(cpuMs() - c);
    wallMs.push(performance.now() - a);
  }
  return { ms, wallMs, perS: (N / (cpuMs() - c0)) * 1000 };
}

const g = await alternate<GuardRound, GuardRound>({
  bench: BENCH,
  rounds,
  a: { name: 'shell guard (baseline)', run: async () => viaShellGuard() },
  b: { name: 'SQL guard', run: async () => viaSqlGuard() },
  describe: (r) =>
    `p99 ${round3(pct(r.ms, 99))} ms CPU (wall ${round3(pct(r.wallMs, 99))} ms), ${Math.round(r.perS)} statements per CPU second`,
});
const p99 = round3(
  pct(
    g.b.flatMap((r) => r.ms),
    99,
  ),
);
const perS = Math.round(median(g.b.map((r) => r.perS)));
const guardRatio = medianRatio(
  g,
  (b) => pct(b.ms, 99),
  (a) => pct(a.ms, 99),
);
goal(BENCH, 'p99 per statement', p99, p99 < 1, '< 1 ms');

// Echo: one key at a time, the next once its echo has arrived.
async function echoes(t: Term): Promise<number[]> {
  const ch: ClientChannel = t.channel;
  const out: number[] = [];
  for (let i = 0; i < KEYS; i++) {
    const key = 'abcdefghij'[i % 10]!;
    const a = performance.now();
    await new Promise<void>((resolve) => {
      const on = (d: Buffer) => {
        if (d.toString('utf8').includes(key)) {
          ch.removeListener('data', on);
          resolve();
        }
      };
      ch.on('data', on);
      ch.write(key);
    });
    out.push(performance.now() - a);
    if (i % 20 === 19) {
      ch.write('\x15'); // clear the line now and then
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  ch.write('\x15');
  await new Promise((r) => setTimeout(r, 50));
  return out;
}

const lab = await startDbLab();
let echoRatio = NaN;
let shellMedian = NaN;
let dbMedian = NaN;
try {
  const shell = await lab.jumpTo('db1', /alice@db1[^\n]*\$ $/u);
  const db = await lab.jumpTo('mysql db1', /MariaDB db1> $/u);
  const e = await alternate<number[], number[]>({
    bench: BENCH,
    rounds,
    a: { name: 'shell terminal echo', run: () => echoes(shell) },
    b: { name: 'database terminal echo', run: () => echoes(db) },
    describe: (ms) => `median ${round3(median(ms))} ms, p99 ${round3(pct(ms, 99))} ms over ${ms.length} keys`,
  });
  echoRatio = medianRatio(
    e,
    (b) => median(b),
    (a) => median(a),
  );
  shellMedian = round3(median(e.a.flat()));
  dbMedian = round3(median(e.b.flat()));
  await shell.close();
  await db.close();
} finally {
  await lab.close();
}
goal(BENCH, 'echo ratio (database / shell terminal)', echoRatio, echoRatio <= 1.2, '≤ 1.2');
result(BENCH, {
  p99_ms: p99,
  wall_p99_ms: round3(
    pct(
      g.b.flatMap((r) => r.wallMs),
      99,
    ),
  ),
  statements_per_s: perS,
  statements: N,
  guard_p99_ratio: guardRatio,
  echo_ratio: echoRatio,
  echo_median_ms: { shell: shellMedian, database: dbMedian },
  keys: KEYS,
  rounds,
});
