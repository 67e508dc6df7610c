// The bench method of test/bench/README.md in one place: alternating rounds
// (baseline, subject, baseline, subject, …) after an uncounted warm-up, every
// round on stderr, the median of the per-round ratios, tails from the same
// rounds, CPU time of a process from /proc/<pid>/stat, RSS at rest, and the
// JSON last line.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Rounds per side: BENCH_ROUNDS, default `fallback`; fewer than `min` is a smoke run and says so. */
export function roundCount(fallback = 3, min = 3): number {
  const n = Number(process.env.BENCH_ROUNDS ?? fallback);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`BENCH_ROUNDS must be a positive integer, got ${process.env.BENCH_ROUNDS}`);
  if (n < min)
    process.stderr.write(`bench: BENCH_ROUNDS=${n} is below the method's ${min}: a smoke run, not a figure\n`);
  return n;
}

export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const round3 = (n: number): number => +n.toFixed(3);

export interface Side<T> {
  name: string;
  /** One round; `round` counts from 1, 0 is the warm-up. */
  run: (round: number) => Promise<T>;
}

export interface Rounds<A, B> {
  a: A[];
  b: B[];
  rounds: number;
}

/**
 * A B A B …: `rounds` of each after `warmup` uncounted rounds of each; every
 * round is described on stderr by `describe`.
 */
export async function alternate<A, B>(opts: {
  bench: string;
  rounds: number;
  warmup?: number;
  a: Side<A>;
  b: Side<B>;
  describe: (figure: A | B) => string;
}): Promise<Rounds<A, B>> {
  const out: Rounds<A, B> = { a: [], b: [], rounds: opts.rounds };
  const log = (m: string) => process.stderr.write(`${opts.bench}: ${m}\n`);
  for (let w = 0; w < (opts.warmup ?? 1); w++) {
    log(`warm-up ${opts.a.name}: ${opts.describe(await opts.a.run(0))} (not counted)`);
    log(`warm-up ${opts.b.name}: ${opts.describe(await opts.b.run(0))} (not counted)`);
  }
  for (let r = 1; r <= opts.rounds; r++) {
    const a = await opts.a.run(r);
    log(`round ${r}/${opts.rounds} ${opts.a.name}: ${opts.describe(a)}`);
    out.a.push(a);
    const b = await opts.b.run(r);
    log(`round ${r}/${opts.rounds} ${opts.b.name}: ${opts.describe(b)}`);
    out.b.push(b);
  }
  return out;
}

/** Median of per-round ratios num(b_i)/den(a_i): noise in a round hits both its sides. */
export function medianRatio<A, B>(r: Rounds<A, B>, num: (b: B) => number, den: (a: A) => number): number {
  return round3(median(r.b.map((b, i) => num(b) / den(r.a[i]!))));
}

const ticks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), counted from field 3: utime is 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticks;
}

/** Sum of cpuSeconds over processes, skipping those that are gone. */
export function cpuSecondsOf(pids: number[]): number {
  let s = 0;
  for (const p of pids) {
    try {
      s += cpuSeconds(p);
    } catch {
      /* exited */
    }
  }
  return s;
}

/** VmRSS in MB. */
export function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return +(Number(m[1]) / 1024).toFixed(1);
}

/** RSS after `ms` at rest (BENCH_REST_MS, default 60 s: the method's figure). */
export async function rssAtRest(pid: number, ms = Number(process.env.BENCH_REST_MS ?? 60_000)): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return rssMb(pid);
}

/** The JSON last line: the bench's name, its round count and figures. */
export function result(bench: string, fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench, ...fields })}\n`);
}

/** "met" / "MISSED" line for a goal; a missed goal is reported, not an error. */
export function goal(bench: string, what: string, value: number, ok: boolean, target: string): void {
  process.stderr.write(`${bench}: goal ${what} ${target}: ${ok ? 'met' : 'MISSED'} (${value})\n`);
}
