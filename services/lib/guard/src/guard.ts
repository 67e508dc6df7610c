// The command guard of one target session. It sits between two byte streams —
// the user's input (input) and the target's output (output) — and knows
// nothing about SSH. Keystrokes are forwarded at once; a submission (Enter,
// Ctrl-O, a bracketed paste with newlines) is judged on the line the user
// really submitted, read from a headless copy of the user's screen after the
// target's echo has arrived (it may be held briefly for that).
//
// Contract for the proxy:
//   r = guard.input(bytes)   → write r.forward to the target, r.toUser to the user
//                              (and to the recording); if r.hold, arm ONE timer of
//                              r.holdMs that calls flush() (replace any earlier one).
//   r = guard.output(bytes)  → the proxy writes `bytes` to the user itself (the
//                              guard never changes target output); if r is not
//                              null, handle it exactly like an input() result.
//   r = guard.flush()        → on the timer: null when nothing is held; else a
//                              result (it may say hold again while echo is still
//                              arriving, bounded by maxHoldMs after the Enter).
//   guard.resize(cols, rows) on window-change, guard.setRules(rules) when the
//   rules arrive or change, guard.dispose() when the session ends; events
//   (guard_skipped, unjudged) through opts.onEvent.
//   Bytes must be written in the order the results are returned.
import { KeyReader, RawLineEditor, type Key } from './keys.js';
import { LineTracker } from './line-tracker.js';
import type { CompiledRules, MatchedRule, Verdict } from './rules.js';
import { judgeLine, blockReason, UNCHECKED_RULE, type JudgeOptions } from './judge.js';
import { LogicalCommand } from './continuation.js';

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
  /** Bounds of the wait for echo before a submission is decided; default 150..1500 ms (adapts to the echo round trip). */
  minHoldMs?: number;
  maxHoldMs?: number;
  /** Input kept while holding beyond this is refused (the submission is blocked). Default 1 MiB. */
  maxHeldBytes?: number;
  /** Longest command kept in full, in cells. Default 64 KiB. */
  maxLineCells?: number;
  /** Longest command continued over several lines (backslash, quotes, here-doc) that is judged; beyond it, refused. Default 64 KiB. */
  maxPendingBytes?: number;
  onEvent?: (e: GuardEvent) => void;
  now?: () => number;
}

/** Ctrl-E (end of line) then Ctrl-U (kill to line start): empties the line in readline, zsh, libedit and a cooked tty (where ^U kills the whole line). */
export const CLEAR_LINE = Buffer.from('\x05\x15');
/** After CLEAR_LINE when the shell holds earlier lines of the command (PS2): Ctrl-C discards them all. */
export const DISCARD_PENDING = Buffer.from('\x03');
const EMPTY = Buffer.alloc(0);
const CTRL_O = 0x0f;
const HELD_LIMIT_RULE: MatchedRule = Object.freeze({
  id: 'held-input-limit', name: 'input too large to check', pattern: '', action: 'block', severity: 'high', list: 'deny',
});
const CONTINUED_LIMIT_RULE: MatchedRule = Object.freeze({
  id: 'continued-limit', name: 'command continued too long to check', pattern: '', action: 'block', severity: 'high', list: 'deny',
});

export class CommandGuard {
  private readonly tracker: LineTracker;
  private readonly reader = new KeyReader();
  private rules: CompiledRules | null;
  private readonly budgetMs: number;
  private readonly failOpen: boolean;
  private readonly minHoldMs: number;
  private readonly maxHoldMs: number;
  private readonly maxHeldBytes: number;
  private readonly onEvent: (e: GuardEvent) => void;
  private readonly now: () => number;

  /** Keys not forwarded yet; queue[0] is a submission waiting for its echo. */
  private queue: Key[] = [];
  private queuedBytes = 0;
  private holdSince: number | null = null;
  private lastProgress = 0;

  /** Text left of the cursor when the user started this line; null: nothing typed since the last submission. */
  private prompt: string | null = null;
  /** The last prompt that was found again at a submission. */
  private lastPrompt = '';
  private outputs = 0;
  private outputsAtSubmit = 0;

  // Keys forwarded whose echo has not been seen yet.
  private run = '';
  private runBase: string | null = null;
  private complex = 0;
  private outAfterLast = false;
  private outSince = 0;
  private lastKeyAt = 0;
  private srtt = 50;
  private disposed = false;
  /** The command the shell is still reading (continued lines, a here-doc body), as submitted so far. */
  private logical: LogicalCommand;

  constructor(opts: GuardOptions) {
    this.tracker = new LineTracker({ cols: opts.cols, rows: opts.rows, maxLineCells: opts.maxLineCells ?? 64 * 1024 });
    this.rules = opts.rules;
    this.budgetMs = opts.budgetMs ?? 50;
    this.failOpen = opts.failOpen === true;
    this.minHoldMs = opts.minHoldMs ?? 150;
    this.maxHoldMs = Math.max(this.minHoldMs, opts.maxHoldMs ?? 1500);
    this.maxHeldBytes = opts.maxHeldBytes ?? 1024 * 1024;
    this.onEvent = opts.onEvent ?? (() => {});
    this.now = opts.now ?? (() => performance.now());
    this.logical = new LogicalCommand(opts.maxPendingBytes ?? 64 * 1024);
  }

  /** User → target bytes. */
  input(buf: Buffer): GuardResult {
    if (this.disposed) return result([buf], [], []);
    const keys = this.reader.push(buf);
    for (const k of keys) this.queuedBytes += k.bytes.length;
    this.queue.push(...keys);
    if (this.queuedBytes + this.reader.pendingPasteBytes > this.maxHeldBytes) return this.refuseOversized();
    if (this.holdSince !== null && this.queue.length > keys.length) {
      // Still waiting for the echo before an earlier submission (unless its deadline passed).
      if (this.due()) return this.pump(true);
      return this.held(result([], [], []));
    }
    return this.pump(false);
  }

  /** Target → user bytes (the proxy forwards them itself). Returns a result when it releases held input. */
  output(buf: Buffer): GuardResult | null {
    if (this.disposed) return null;
    this.tracker.write(buf);
    this.outputs++;
    if (this.run !== '' || this.complex > 0) {
      this.outAfterLast = true;
      this.outSince++;
      if (this.settled()) this.noteSettled();
    }
    if (this.queue.length === 0 || this.holdSince === null) return null;
    const due = this.due();
    this.lastProgress = this.now();
    if (!due && !this.settled()) return null;
    return this.pump(due);
  }

  /** The hold deadline passed: decide now with what is on the screen. */
  flush(): GuardResult | null {
    if (this.disposed) return null;
    const open = this.reader.closeOpenPaste();
    if (open) this.queue.push(open);
    if (this.queue.length === 0) return null;
    // Echo still arriving (a long line): wait on, within maxHoldMs of the submission.
    if (this.holdSince !== null && !open && !this.due() && !this.settled()) return this.held(result([], [], []));
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

  private holdMs(): number {
    return Math.round(Math.min(this.maxHoldMs, Math.max(this.minHoldMs, 4 * this.srtt + 50)));
  }

  /** The hold ends holdMs after the last output that arrived while holding, at most maxHoldMs after it began. */
  private due(): boolean {
    if (this.holdSince === null) return false;
    const now = this.now();
    return now - this.holdSince >= this.maxHoldMs || now - Math.max(this.holdSince, this.lastProgress) >= this.holdMs();
  }

  private held(r: GuardResult): GuardResult {
    const now = this.now();
    if (this.holdSince === null) {
      this.holdSince = now;
      this.lastProgress = now;
    }
    r.hold = true;
    const byQuiet = this.holdMs() - (now - Math.max(this.holdSince, this.lastProgress));
    const byMax = this.maxHoldMs - (now - this.holdSince);
    r.holdMs = Math.max(1, Math.round(Math.min(byQuiet, byMax)));
    return r;
  }

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
        this.prompt = null;
        this.tracker.keepLine = false;
        this.resetUnsettled();
        this.logical.reset(); // the shell ran the command
        break;
      }
      const k = this.queue[0]!;
      if (!isSubmission(k)) {
        if (this.prompt === null) this.learnPrompt();
        this.noteKey(k);
        fwd.push(k.bytes);
        this.shift(1);
        continue;
      }
      if (!forced && !this.settled()) {
        const r = this.held(result(fwd, toUser, judged));
        return r;
      }
      const d = this.decide(forced);
      forced = false;
      judged.push(...d.judged);
      if (d.blocked) {
        blocked = d.blocked;
        fwd.push(CLEAR_LINE);
        // The shell holds the command's earlier lines: Ctrl-C drops them and it draws a fresh prompt.
        const discard = this.logical.pending;
        if (discard) fwd.push(DISCARD_PENDING);
        this.logical.reset();
        const cur = this.tracker.cursorLine();
        const trimmed = cur.text.trimEnd();
        const shown = discard ? '' : cur.left.length > trimmed.length ? cur.left : trimmed;
        const msg = Buffer.from(`\r\n${d.blocked.message}\r\n${shown}`);
        // Not fed to the tracker: it mirrors the shell's idea of the screen, and the
        // reprint leaves the user's cursor where the shell believes it is.
        toUser.push(msg);
        // The shell redraws the cleared line for a screen of the user's size.
        this.tracker.relax();
        this.queue = [];
        this.queuedBytes = 0;
        this.resetUnsettled();
        this.complex = 1; // the clearing keys produce a redraw
        this.lastKeyAt = this.now();
        if (discard) {
          // Ctrl-C: the shell draws a fresh prompt on a new line, learned again at the next key.
          this.prompt = null;
          this.tracker.keepLine = false;
          this.outputsAtSubmit = this.outputs;
        }
        break;
      }
      if (d.logical) this.logical = d.logical;
      for (let i = 0; i < d.count; i++) fwd.push(this.queue[i]!.bytes);
      const last = this.queue[d.count - 1]!;
      this.shift(d.count);
      this.resetUnsettled();
      this.outputsAtSubmit = this.outputs;
      // Ctrl-O (operate-and-get-next) puts the next history line under the same prompt.
      this.prompt = last.kind === 'control' && last.code === CTRL_O ? this.prompt : null;
      this.tracker.keepLine = this.prompt !== null;
      if (this.prompt === null) this.tracker.relax();
    }
    this.holdSince = null;
    const r = result(fwd, toUser, judged);
    if (blocked) r.blocked = blocked;
    if (this.reader.inPaste) return this.held(r);
    return r;
  }

  /** Judges the submission at queue[0] together with every later complete line already queued (a paste). */
  private decide(forced: boolean): { judged: JudgedLine[]; blocked?: GuardBlock; count: number; logical?: LogicalCommand } {
    let lastSub = 0;
    for (let i = 0; i < this.queue.length; i++) if (isSubmission(this.queue[i]!)) lastSub = i;
    const count = lastSub + 1;
    // The first line: what the screen shows, unless the target did not echo what was typed.
    let first: string | null = this.screenCommand();
    // No output at all since the keys were typed: the target reads without echo (a password).
    if (forced && !this.settled() && this.run !== '' && this.outSince === 0 && !this.tracker.cursorLine().left.endsWith(this.run)) {
      first = null;
      this.onEvent({ type: 'unjudged', reason: 'no_echo' });
    }
    const lines: Array<{ line: string; source: 'screen' | 'input'; partial?: true }> = [];
    const head = this.queue[0]!;
    let editor: RawLineEditor;
    if (head.kind === 'paste') {
      editor = new RawLineEditor(first ?? '');
      editor.apply(head);
      // The paste's first line completes the screen's line.
      editor.lines.forEach((l, i) => lines.push({ line: l, source: i === 0 && first !== null ? 'screen' : 'input' }));
      editor.lines.length = 0;
    } else {
      if (first !== null) lines.push({ line: first, source: 'screen' });
      editor = new RawLineEditor();
    }
    for (let i = 1; i < count; i++) {
      editor.apply(this.queue[i]!);
      for (const l of editor.lines) lines.push({ line: l, source: 'input' });
      editor.lines.length = 0;
    }
    // A bracketed paste's last line stays in the shell's buffer: judge it as well (it is judged again on its Enter).
    const tail = this.queue[lastSub]!;
    if (tail.kind === 'paste' && editor.text.trim() !== '') lines.push({ line: editor.text, source: 'input', partial: true });

    const judged: JudgedLine[] = [];
    let worst: { j: JudgedLine; rule: MatchedRule; index: number } | undefined;
    // Each submitted line is judged alone and, when the shell is still reading the command, joined
    // with its earlier lines; a here-doc body's lines are judged as commands.
    const logical = this.logical.clone();
    lines.forEach(({ line, source, partial }, index) => {
      const c = partial ? { texts: [line.trim()].filter(Boolean), overflow: false } : logical.feed(line);
      if (c.overflow && !worst) {
        const j: JudgedLine = { line: line.trim(), verdict: 'block', rules: [CONTINUED_LIMIT_RULE], source };
        judged.push(j);
        worst = { j, rule: CONTINUED_LIMIT_RULE, index };
      }
      for (const text of c.texts) {
        const j = this.judge(text, source);
        judged.push(j);
        if (j.verdict === 'block' && !worst) {
          const rule = j.rules.find((r) => r.action === 'block') ?? j.rules[0];
          if (rule) worst = { j, rule, index };
        }
      }
    });
    if (!worst) return { judged, count, logical };
    const { j, rule } = worst;
    const n = lines.filter((l) => l.line.trim() !== '').length;
    const multi = n > 1;
    const why = rule.id === 'allow-list' ? 'it is not on the allow-list of this service'
      : rule.id === UNCHECKED_RULE.id ? 'the command rules could not be checked in time' : `rule ${JSON.stringify(rule.name)} (${rule.severity})`;
    const message = multi ? `jmp: blocked a pasted block of ${n} lines by ${why}: ${clip(j.line)}; nothing of it was sent`
      : rule === CONTINUED_LIMIT_RULE ? `jmp: blocked: a command continued over more than ${this.logical.maxBytes} bytes cannot be checked`
        : blockReason(rule);
    return { judged, count, blocked: { line: j.line, rule, rules: j.rules, message } };
  }

  private judge(line: string, source: 'screen' | 'input'): JudgedLine {
    return judgeLine(line, source, this.judgeOptions());
  }

  private judgeOptions(): JudgeOptions {
    return { rules: this.rules, budgetMs: this.budgetMs, failOpen: this.failOpen, now: this.now, onEvent: this.onEvent };
  }

  /** The submitted command: the cursor's logical line without its prompt. */
  private screenCommand(): string {
    const { text, left } = this.tracker.cursorLine();
    const p = this.prompt;
    if (p && text.startsWith(p)) {
      this.lastPrompt = p;
      return text.slice(p.length).trim();
    }
    if (this.lastPrompt) {
      const at = text.indexOf(this.lastPrompt);
      if (at >= 0) return text.slice(at + this.lastPrompt.length).trim();
    }
    // Nothing typed since the last submission: a pager or program prompt, not a command.
    if (p === null) return text.slice(left.length).trim();
    return text.trim();
  }

  private learnPrompt(): void {
    // Before any output followed the last submission the screen still shows the old line.
    this.prompt = this.outputs > this.outputsAtSubmit || this.lastPrompt === '' ? this.tracker.cursorLine().left : '';
    this.tracker.keepLine = true;
  }

  private noteKey(k: Key): void {
    const now = this.now();
    if (k.kind === 'text' || (k.kind === 'paste')) {
      const text = k.kind === 'text' ? k.text : k.text.replace(/[\x00-\x1f\x7f]/gu, '');
      if (this.run === '' && this.complex === 0) this.runBase = this.tracker.cursorLine().left;
      else if (this.complex === 0 && this.runBase !== null && this.outAfterLast) {
        // The target answered earlier keys: if the screen is not "base + part of the run",
        // they were consumed otherwise (a pager's key, no echo): track afresh from here.
        const left = this.tracker.cursorLine().left;
        if (!left.startsWith(this.runBase) || !this.run.startsWith(left.slice(this.runBase.length))) {
          this.run = '';
          this.runBase = left;
        }
      }
      this.run += text;
    } else {
      this.complex++;
      this.run = '';
      this.runBase = null;
    }
    if (this.run.length > 4096) {
      // Only the tail is compared with the echo.
      this.run = this.run.slice(-2048);
      this.runBase = null;
    }
    this.outAfterLast = false;
    this.lastKeyAt = now;
  }

  /** Has the echo of every forwarded key arrived? */
  private settled(): boolean {
    if (this.run === '' && this.complex === 0) return true;
    if (!this.outAfterLast) return false;
    const left = this.tracker.cursorLine().left;
    if (this.complex === 0 && this.runBase !== null) return left === this.runBase + this.run;
    return this.outSince >= this.complex && left.endsWith(this.run);
  }

  private noteSettled(): void {
    if (this.complex === 0 && this.run !== '') {
      const sample = this.now() - this.lastKeyAt;
      this.srtt = 0.8 * this.srtt + 0.2 * Math.max(0, sample);
    }
    this.resetUnsettled();
  }

  private resetUnsettled(): void {
    this.run = '';
    this.runBase = null;
    this.complex = 0;
    this.outAfterLast = false;
    this.outSince = 0;
  }

  private shift(n: number): void {
    for (const k of this.queue.splice(0, n)) this.queuedBytes -= k.bytes.length;
  }

  private refuseOversized(): GuardResult {
    const discard = this.logical.pending;
    this.logical.reset();
    this.queue = [];
    this.queuedBytes = 0;
    this.reader.closeOpenPaste();
    this.holdSince = null;
    this.resetUnsettled();
    this.complex = 1;
    const message = `jmp: blocked: more than ${this.maxHeldBytes} bytes of input arrived before the line could be checked; nothing of it was sent`;
    const msg = Buffer.from(`\r\n${message}\r\n`);
    this.tracker.write(msg);
    const r = result(discard ? [CLEAR_LINE, DISCARD_PENDING] : [CLEAR_LINE], [msg], []);
    r.blocked = { line: '', rule: HELD_LIMIT_RULE, rules: [HELD_LIMIT_RULE], message };
    return r;
  }
}

function isSubmission(k: Key): boolean {
  if (k.kind === 'enter') return true;
  if (k.kind === 'control') return k.code === CTRL_O;
  if (k.kind === 'paste') return /[\r\n]/u.test(k.text);
  return false;
}

function result(fwd: Buffer[], toUser: Buffer[], judged: JudgedLine[]): GuardResult {
  return {
    forward: fwd.length === 0 ? EMPTY : fwd.length === 1 ? fwd[0]! : Buffer.concat(fwd),
    toUser: toUser.length === 0 ? EMPTY : Buffer.concat(toUser),
    judged, hold: false, holdMs: 0,
  };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
