// Test support: drives a CommandGuard the way the proxy will, against a real
// `bash -i` under a pty (Python's pty module). Commands that reach bash are
// NOT executed: an extdebug DEBUG trap prints `RAN<cmd>` and skips them
// (except a few harmless ones the tests need), so a guard failure cannot harm.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandGuard, type GuardEvent, type GuardResult } from '../src/guard.js';
import type { CompiledRules } from '../src/rules.js';

const PTY = String.raw`
import os, pty, sys, select, struct, fcntl, termios
cols, rows, rc = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp('bash', ['bash', '--noprofile', '--rcfile', rc, '-i'])
while True:
    r, _, _ = select.select([fd, 0], [], [])
    if fd in r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            break
        if not d:
            break
        os.write(1, d)
    if 0 in r:
        d = os.read(0, 65536)
        if not d:
            break
        os.write(fd, d)
`;

export function bashAvailable(): boolean {
  try {
    return spawn('bash', ['--version']).pid !== undefined;
  } catch {
    return false;
  }
}

export class RealBash {
  readonly dir: string;
  readonly guard: CommandGuard;
  readonly results: GuardResult[] = [];
  readonly events: GuardEvent[] = [];
  /** Everything bash printed (what the user would see, without the guard's messages). */
  raw = '';
  private readonly proc: ChildProcessWithoutNullStreams;
  private timers = new Set<NodeJS.Timeout>();

  constructor(rules: CompiledRules, opts: { cols?: number; rows?: number; history?: string[] } = {}) {
    const cols = opts.cols ?? 80,
      rows = opts.rows ?? 24;
    this.dir = mkdtempSync(join(tmpdir(), 'jmp-guard-'));
    mkdirSync(join(this.dir, 'victim-dir'));
    for (const f of ['ab1', 'ab2']) writeFileSync(join(this.dir, f), '');
    writeFileSync(join(this.dir, 'long.txt'), Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n') + '\n');
    const rc = join(this.dir, 'rc');
    writeFileSync(
      rc,
      [
        `PS1='jmp$ '`,
        'HISTFILE=/dev/null',
        `cd ${this.dir}`,
        ...(opts.history ?? []).map((h) => `history -s ${shellQuote(h)}`),
        'shopt -s extdebug',
        `__jmp_trap() { case "$BASH_COMMAND" in vim*|more*|less*|'read '*|echo*|ls*|cd*|true|__jmp*) return 0;; esac; printf 'RAN<%s>\\n' "$BASH_COMMAND"; return 1; }`,
        'trap __jmp_trap DEBUG',
      ].join('\n') + '\n',
    );
    this.proc = spawn('python3', ['-c', PTY, String(cols), String(rows), rc], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: this.dir,
        TERM: 'xterm-256color',
        INPUTRC: '/dev/null',
        LANG: 'C.UTF-8',
        USER: 'u',
      },
    });
    this.guard = new CommandGuard({ cols, rows, rules, onEvent: (e) => this.events.push(e) });
    this.proc.stdout.on('data', (b: Buffer) => {
      this.raw += b.toString('utf8');
      const r = this.guard.output(b);
      if (r) this.apply(r);
    });
  }

  /** Types like a user (one chunk per call). */
  type(s: string): GuardResult {
    const r = this.guard.input(Buffer.from(s, 'utf8'));
    this.apply(r);
    return r;
  }

  /** Types each character as its own chunk, waiting for its echo. */
  /**
   * One key at a time, each after the echo of the one before. Keys that echo
   * nothing (cursor moves, a password) get 400 ms; an echo later than that
   * is still fine, since the guard holds Enter until the echo is in.
   */
  async typeSlowly(s: string): Promise<void> {
    for (const ch of s) {
      const before = this.raw.length;
      this.type(ch);
      await this.until(() => this.raw.length > before, 400).catch(() => {});
    }
  }

  private apply(r: GuardResult): void {
    this.results.push(r);
    if (r.forward.length) this.proc.stdin.write(r.forward);
    if (r.toUser.length) this.raw += r.toUser.toString('utf8');
    if (r.hold) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        const f = this.guard.flush();
        if (f) this.apply(f);
      }, r.holdMs);
      this.timers.add(t);
    }
  }

  /** Waits until the guard is idle and bash has printed a fresh prompt after `since`. */
  async prompt(since: number, timeoutMs = 5000): Promise<void> {
    await this.until(() => !this.guard.holding && /jmp\$ $/u.test(this.raw.slice(since)), timeoutMs);
  }

  async until(pred: () => boolean, timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`timeout; bash printed: ${JSON.stringify(this.raw.slice(-400))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits until bash has printed nothing for `ms`. */
  async quiet(ms: number): Promise<void> {
    let n = -1;
    while (n !== this.raw.length) {
      n = this.raw.length;
      await sleep(ms);
    }
  }

  judgedLines(): string[] {
    return this.results.flatMap((r) => r.judged.map((j) => j.line));
  }

  blocks(): string[] {
    return this.results.flatMap((r) => (r.blocked ? [r.blocked.line] : []));
  }

  ran(): string[] {
    return [...this.raw.matchAll(/RAN<([^>]*)>/gu)].map((m) => m[1] ?? '');
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.proc.stdin.end();
    this.proc.kill();
    this.guard.dispose();
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/gu, `'\\''`)}'`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
