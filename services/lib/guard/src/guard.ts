// The command guard of one target session: a pure orchestrator between two
// byte streams, the person's keys and the target's output. It knows nothing
// of SSH and does no I/O. Keystrokes are forwarded at once; a submission
// (Enter, Ctrl-O, a bracketed paste with newlines) is judged on the line the
// person really submitted, read from a headless copy of their screen after
// the target's echo has arrived (the submission may be held briefly for it).
//
// Contract for the proxy —
//   inputs:  the person's bytes (input), the target's bytes (output), the
//            window size (resize), the rules (setRules), the hold timer (flush);
//   outputs: bytes for the target and bytes for the person (in each result),
//            events (opts.onEvent: guard_skipped, guard_refused, unjudged).
//   r = guard.input(bytes)   → write r.forward to the target, r.toUser to the person
//                              (and to the recording); if r.hold, arm ONE timer of
//                              r.holdMs that calls flush() (replace any earlier one).
//   r = guard.output(bytes)  → the proxy writes `bytes` to the person itself (the
//                              guard never changes target output); if r is not
//                              null, handle it exactly like an input() result.
//   r = guard.flush()        → on the timer: null when nothing is held; else a
//                              result (it may say hold again while echo is still
//                              arriving, bounded by maxHoldMs after the Enter).
//   guard.resize(cols, rows) on window-change, guard.setRules(rules) when the
//   rules arrive or change, guard.dispose() when the session ends.
//   Bytes must be written in the order the results are returned.
//
// The units it wires: keys.ts (bytes → keys), line-tracker.ts (the screen),
// echo.ts (has the echo of the forwarded keys arrived?), hold.ts (how long a
// submission waits for it), prompt.ts (the prompt, and the command without it),
// submission.ts (the lines a submission sends), verdict.ts (pass or block, and
// why), continuation.ts (the command the shell is still reading).
import { KeyReader, type Key } from './keys.js';
import { LineTracker } from './line-tracker.js';
import type { CompiledRules, MatchedRule, Verdict } from './rules.js';
import type { JudgeOptions } from './judge.js';
import { LogicalCommand } from './continuation.js';
import { EchoTracker } from './echo.js';
import { HoldClock } from './hold.js';
import { PromptLearner } from './prompt.js';
import { CTRL_O, isSubmission, submissionLength, submittedLines } from './submission.js';
import { judgeSubmission } from './verdict.js';

export interface JudgedLine {
  /** The command, in full, as the shell receives it (trimmed). */
  line: string;
  verdict: Verdict;
  /** Every matching rule (block and alert). */
  rules: MatchedRule[];
  /** screen: read from the echo; input: a later line of a paste, read from the keys. */
  source: 'screen' | 'input';
  /** The line passed without a decision (rules missing, budget exceeded). */
  skipped?: 'budget' | 'no_rules';
}

export interface GuardBlock {
  line: string;
  /** The rule that decided (most severe block rule, or the allow-list rule). */
  rule: MatchedRule;
  rules: MatchedRule[];
  /** One line for the user, without line ends. */
  message: string;
}

export interface GuardResult {
  /** Bytes for the target, now. */
  forward: Buffer;
  /** Bytes for the user, now (the block message, with the line reprinted); empty otherwise. */
  toUser: Buffer;
  /** Every line judged by this call (empty lines and unjudged lines are not listed). */
  judged: JudgedLine[];
  /** Some input is held back: call flush() after holdMs unless a later result has hold false. */
  hold: boolean;
  holdMs: number;
  blocked?: GuardBlock;
}

export type GuardEvent =
  | { type: 'guard_skipped'; reason: 'budget' | 'no_rules'; line: string; elapsedMs: number; budgetMs: number }
  /** The line could not be checked (same reasons) and was refused: the default without JMP_SSH_GUARD_FAIL_OPEN. */
  | { type: 'guard_refused'; reason: 'budget' | 'no_rules'; line: string; elapsedMs: number; budgetMs: number }
  /** A submitted line was not judged because the target did not echo it (password entry). The line is not given. */
  | { type: 'unjudged'; reason: 'no_echo' };

export interface GuardOptions {
  cols: number;
  rows: number;
  /** null when the rules could not be had: every line is then refused (or, failOpen, passes as guard_skipped). */
  rules: CompiledRules | null;
  /** Matching budget per line; over it the line is refused (or, failOpen, passes as guard_skipped). Default 50 ms. */
  budgetMs?: number;
  /** JMP_SSH_GUARD_FAIL_OPEN: lines that cannot be checked pass as guard_skipped instead of being refused. */
  failOpen?: boolean;
  /** Bounds of the wait for echo before a submission is decided; default 150..1500 ms (adapts to the echo's RTT). */
  minHoldMs?: number;
  maxHoldMs?: number;
  /** Input kept while holding beyond this is refused (the submission is blocked). Default 1 MiB. */
  maxHeldBytes?: number;
  /** Longest command kept in full, in cells. Default 64 KiB. */
  maxLineCells?: number;
  /**
   * Longest command continued over several lines (backslash, quotes, here-doc) that is judged;
   * beyond it, refused. Default 64 KiB.
   */
  maxPendingBytes?: number;
  onEvent?: (e: GuardEvent) => void;
  now?: () => number;
}

/**
 * Ctrl-E (end of line) then Ctrl-U (kill to line start): empties the line in readline, zsh, libedit
 * and a cooked tty (where ^U kills the whole line).
 */
export const CLEAR_LINE = Buffer.from('\x05\x15');
/** After CLEAR_LINE when the shell holds earlier lines of the command (PS2): Ctrl-C discards them all. */
export const DISCARD_PENDING = Buffer.from('\x03');
const EMPTY = Buffer.alloc(0);
const HELD_LIMIT_RULE: MatchedRule = Object.freeze({
  id: 'held-input-limit',
  name: 'input too large to check',
  pattern: '',
  action: 'block',
  severity: 'high',
  list: 'deny',
});

export class CommandGuard {
  private readonly tracker: LineTracker;
  private readonly reader = new KeyReader();
  private readonly echo: EchoTracker;
  private readonly clock: HoldClock;
  private readonly prompt: PromptLearner;
  private rules: CompiledRules | null;
  private readonly budgetMs: number;
  private readonly failOpen: boolean;
  private readonly maxHeldBytes: number;
  private readonly onEvent: (e: GuardEvent) => void;
  private readonly now: () => number;

  /** Keys not forwarded yet; queue[0] is a submission waiting for its echo. */
  private queue: Key[] = [];
  private queuedBytes = 0;
  private disposed = false;
  /** The command the shell is still reading (continued lines, a here-doc body), as submitted so far. */
  private logical: LogicalCommand;

  constructor(opts: GuardOptions) {
    this.tracker = new LineTracker({ cols: opts.cols, rows: opts.rows, maxLineCells: opts.maxLineCells ?? 64 * 1024 });
    this.rules = opts.rules;
    this.budgetMs = opts.budgetMs ?? 50;
    this.failOpen = opts.failOpen === true;
    this.maxHeldBytes = opts.maxHeldBytes ?? 1024 * 1024;
    this.onEvent = opts.onEvent ?? (() => {});
    this.now = opts.now ?? (() => performance.now());
    this.echo = new EchoTracker(this.tracker, this.now);
    this.clock = new HoldClock({ minHoldMs: opts.minHoldMs, maxHoldMs: opts.maxHoldMs, now: this.now });
    this.prompt = new PromptLearner(this.tracker);
    this.logical = new LogicalCommand(opts.maxPendingBytes ?? 64 * 1024);
  }

  /** Person → target bytes. */
  input(buf: Buffer): GuardResult {
    if (this.disposed) return result([buf], [], []);
    const keys = this.reader.push(buf);
    for (const k of keys) {
      this.queuedBytes += k.bytes.length;
      this.queue.push(k);
    }
    if (this.queuedBytes + this.reader.pendingPasteBytes > this.maxHeldBytes) return this.refuseOversized();
    if (this.clock.holding && this.queue.length > keys.length) {
      // Still waiting for the echo before an earlier submission (unless its deadline passed).
      if (this.clock.due()) return this.pump(true);
      return this.held(result([], [], []));
    }
    return this.pump(false);
  }

  /** Target → person bytes (the proxy forwards them itself). Returns a result when it releases held input. */
  output(buf: Buffer): GuardResult | null {
    if (this.disposed) return null;
    this.tracker.write(buf);
    this.prompt.output();
    const rtt = this.echo.output();
    if (rtt !== null) this.clock.sample(rtt);
    if (this.queue.length === 0 || !this.clock.holding) return null;
    const due = this.clock.due();
    this.clock.progress();
    if (!due && !this.echo.settled()) return null;
    return this.pump(due);
  }

  /** The hold deadline passed: decide now with what is on the screen. */
  flush(): GuardResult | null {
    if (this.disposed) return null;
    const open = this.reader.closeOpenPaste();
    if (open) this.queue.push(open);
    if (this.queue.length === 0) return null;
    // Echo still arriving (a long line): wait on, within maxHoldMs of the submission.
    if (this.clock.holding && !open && !this.clock.due() && !this.echo.settled()) return this.held(result([], [], []));
    return this.pump(true);
  }

  /** True while input is held (a submission waits for its echo, or a bracketed paste is open). */
  get holding(): boolean {
    return this.queue.length > 0 || this.reader.inPaste;
  }

  setRules(rules: CompiledRules | null): void {
    this.rules = rules;
  }

  resize(cols: number, rows: number): void {
    this.tracker.resize(cols, rows);
  }

  dispose(): void {
    this.disposed = true;
    this.queue = [];
    this.tracker.dispose();
  }

  // ---- internals ----

  private held(r: GuardResult): GuardResult {
    r.hold = true;
    r.holdMs = this.clock.hold();
    return r;
  }

  /** Forwards queued keys up to a submission whose echo has not arrived (unless forced), deciding submissions. */
  private pump(forced: boolean): GuardResult {
    const fwd: Buffer[] = [];
    const toUser: Buffer[] = [];
    const judged: JudgedLine[] = [];
    let blocked: GuardBlock | undefined;
    while (this.queue.length > 0) {
      if (this.tracker.altScreen) {
        // A full-screen program reads the keys: nothing is judged.
        for (const k of this.queue) fwd.push(k.bytes);
        this.queue = [];
        this.prompt.forget();
        this.tracker.keepLine = false;
        this.echo.reset();
        this.logical.reset(); // the shell ran the command
        break;
      }
      const k = this.queue[0]!;
      if (!isSubmission(k)) {
        if (!this.prompt.known) {
          this.prompt.learn();
          this.tracker.keepLine = true;
        }
        this.echo.typed(k);
        fwd.push(k.bytes);
        this.shift(1);
        continue;
      }
      if (!forced && !this.echo.settled()) return this.held(result(fwd, toUser, judged));
      const count = submissionLength(this.queue);
      const d = judgeSubmission(
        submittedLines(this.firstLine(forced), this.queue.slice(0, count)),
        this.logical,
        this.judgeOptions(),
      );
      forced = false;
      judged.push(...d.judged);
      if (d.blocked) {
        blocked = d.blocked;
        fwd.push(...this.refuse(toUser, d.blocked.message));
        break;
      }
      this.logical = d.logical;
      for (let i = 0; i < count; i++) fwd.push(this.queue[i]!.bytes);
      const last = this.queue[count - 1]!;
      this.shift(count);
      this.echo.reset();
      // Ctrl-O (operate-and-get-next) puts the next history line under the same prompt.
      this.prompt.submitted(last.kind === 'control' && last.code === CTRL_O);
      this.tracker.keepLine = this.prompt.known;
      if (!this.prompt.known) this.tracker.relax();
    }
    this.clock.release();
    const r = result(fwd, toUser, judged);
    if (blocked) r.blocked = blocked;
    if (this.reader.inPaste) return this.held(r);
    return r;
  }

  /** The submission's first line as the screen shows it, or null when the target did not echo what was typed. */
  private firstLine(forced: boolean): string | null {
    const first = this.prompt.command();
    // No output at all since the keys were typed: the target reads without echo (a password).
    if (forced && !this.echo.settled() && this.echo.unechoed()) {
      this.onEvent({ type: 'unjudged', reason: 'no_echo' });
      return null;
    }
    return first;
  }

  /** Drops the queued submission: returns the keys that clear it at the target, puts the message in toUser. */
  private refuse(toUser: Buffer[], message: string): Buffer[] {
    const fwd = [CLEAR_LINE];
    // The shell holds the command's earlier lines: Ctrl-C drops them and it draws a fresh prompt.
    const discard = this.logical.pending;
    if (discard) fwd.push(DISCARD_PENDING);
    this.logical.reset();
    const cur = this.tracker.cursorLine();
    const trimmed = cur.text.trimEnd();
    const shown = discard ? '' : cur.left.length > trimmed.length ? cur.left : trimmed;
    // Not fed to the tracker: it mirrors the shell's idea of the screen, and the
    // reprint leaves the person's cursor where the shell believes it is.
    toUser.push(Buffer.from(`\r\n${message}\r\n${shown}`));
    // The shell redraws the cleared line for a screen of the person's size.
    this.tracker.relax();
    this.queue = [];
    this.queuedBytes = 0;
    this.echo.cleared(); // the clearing keys produce a redraw
    if (discard) {
      // Ctrl-C: the shell draws a fresh prompt on a new line, learned again at the next key.
      this.prompt.fresh();
      this.tracker.keepLine = false;
    }
    return fwd;
  }

  private judgeOptions(): JudgeOptions {
    const { rules, budgetMs, failOpen, now, onEvent } = this;
    return { rules, budgetMs, failOpen, now, onEvent };
  }

  private shift(n: number): void {
    for (let i = 0; i < n; i++) this.queuedBytes -= this.queue[i]!.bytes.length;
    if (n === this.queue.length) this.queue.length = 0;
    else this.queue.splice(0, n);
  }

  private refuseOversized(): GuardResult {
    const discard = this.logical.pending;
    this.logical.reset();
    this.queue = [];
    this.queuedBytes = 0;
    this.reader.closeOpenPaste();
    this.clock.release();
    this.echo.cleared();
    const message =
      `jmp: blocked: more than ${this.maxHeldBytes} bytes of input arrived` +
      ' before the line could be checked; nothing of it was sent';
    const msg = Buffer.from(`\r\n${message}\r\n`);
    this.tracker.write(msg);
    const r = result(discard ? [CLEAR_LINE, DISCARD_PENDING] : [CLEAR_LINE], [msg], []);
    r.blocked = { line: '', rule: HELD_LIMIT_RULE, rules: [HELD_LIMIT_RULE], message };
    return r;
  }
}

function result(fwd: Buffer[], toUser: Buffer[], judged: JudgedLine[]): GuardResult {
  return {
    forward: fwd.length === 0 ? EMPTY : fwd.length === 1 ? fwd[0]! : Buffer.concat(fwd),
    toUser: toUser.length === 0 ? EMPTY : Buffer.concat(toUser),
    judged,
    hold: false,
    holdMs: 0,
  };
}
