// The guard of a session without a terminal (`ssh -T`, `ssh jmp host cmd`
// from a script): what the person sends on stdin reaches the target's shell
// as lines, so each line is judged before it is forwarded and a blocked line
// is never sent. There is no screen to read, so the line is read from the
// bytes themselves. Pure: bytes in, bytes and verdicts out; no SSH, no I/O.
//
// Contract for the proxy:
//   r = guard.input(bytes) → write r.forward to the target, r.toUser to the
//                            person's stderr; store r.judged.
//   r = guard.end()        → on the person's EOF: the last line, even without a
//                            newline, is judged before it is sent; then EOF.
import type { GuardBlock, GuardEvent, JudgedLine } from './guard.js';
import type { CompiledRules, MatchedRule } from './rules.js';
import { judgeLine, UNCHECKED_RULE, UNCHECKED_MESSAGE } from './judge.js';
import { LogicalCommand } from './continuation.js';

export interface StdinGuardOptions {
  /** null when the rules could not be had: lines are refused, or pass as guard_skipped with failOpen. */
  rules: CompiledRules | null;
  /** A command (with its continued lines and here-doc bodies) longer than this is refused, not buffered. Default 64 KiB. */
  maxLineBytes?: number;
  /** Matching budget per line; over it the line is refused (or, failOpen, passes as guard_skipped). Default 50 ms. */
  budgetMs?: number;
  /** JMP_SSH_GUARD_FAIL_OPEN: lines that cannot be checked pass as guard_skipped instead of being refused. */
  failOpen?: boolean;
  onEvent?: (e: GuardEvent) => void;
  now?: () => number;
}

export interface StdinResult {
  /** Bytes for the target, now (only whole lines that were judged and not blocked). */
  forward: Buffer;
  /** Bytes for the person's stderr: one line per block. */
  toUser: Buffer;
  judged: JudgedLine[];
  blocked: GuardBlock[];
}

const NL = 0x0a;
const EMPTY = Buffer.alloc(0);
export const LINE_LIMIT_RULE: MatchedRule = Object.freeze({
  id: 'line-limit',
  name: 'line too long to check',
  pattern: '',
  action: 'block',
  severity: 'high',
  list: 'deny',
});

export class StdinLineGuard {
  private readonly maxLineBytes: number;
  private readonly onEvent: (e: GuardEvent) => void;
  /** The command being read: its physical lines (held until the shell would run it), and the unfinished tail. */
  private parts: Buffer[] = [];
  private size = 0;
  /** Where the shell is in the command (continued lines, quotes, here-doc bodies), and the texts to judge. */
  private logical: LogicalCommand;
  private texts: string[] = [];
  /** Index in parts where the physical line being read begins. */
  private lineStart = 0;
  /** The rest of a refused over-long line is dropped up to its newline. */
  private discarding = false;
  private ended = false;

  constructor(private readonly opts: StdinGuardOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
    this.onEvent = opts.onEvent ?? (() => {});
    this.logical = new LogicalCommand(this.maxLineBytes);
  }

  input(buf: Buffer): StdinResult {
    const r = empty();
    if (this.ended) return done(r);
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(NL, pos);
      const stop = nl < 0 ? buf.length : nl + 1;
      const piece = buf.subarray(pos, stop);
      pos = stop;
      if (this.discarding) {
        if (nl >= 0) this.discarding = false;
        continue;
      }
      this.parts.push(piece);
      this.size += piece.length;
      if (this.size > this.maxLineBytes) {
        this.refuseOversized(r);
        this.discarding = nl < 0;
        continue;
      }
      if (nl < 0) break;
      // The shell reads on past an unescaped trailing backslash, an open quote, `$(` or here-doc:
      // the command's lines are held and judged together, then sent or dropped as one.
      if (!this.readLine()) continue;
      this.judgePending(r);
    }
    return done(r);
  }

  /** The person's EOF: a last line without a newline is judged too. Later input is ignored. */
  end(): StdinResult {
    const r = empty();
    if (this.ended) return done(r);
    this.ended = true;
    if (!this.discarding && this.size > 0) {
      if (this.lineStart < this.parts.length) this.readLine();
      this.judgePending(r);
    }
    this.parts = [];
    this.size = 0;
    this.lineStart = 0;
    return done(r);
  }

  /** Notes one physical line of the command; true when the command is complete. */
  private readLine(): boolean {
    const piece = Buffer.concat(this.parts.slice(this.lineStart));
    this.lineStart = this.parts.length;
    const text = piece.toString('utf8').replaceAll('\0', '').replace(/\n$/u, '');
    const c = this.logical.feed(text);
    for (const t of c.texts) if (!this.texts.includes(t)) this.texts.push(t);
    return c.complete;
  }

  private judgePending(r: Acc): void {
    const raw = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.lineStart = 0;
    // Each line alone and the command joined so far after each (see continuation.ts).
    const texts = this.texts;
    this.texts = [];
    this.logical.reset();
    if (texts.length === 0) {
      r.fwd.push(raw);
      return;
    }
    let block: { line: string; rule: MatchedRule; rules: MatchedRule[] } | undefined;
    for (const line of texts) {
      const j = judgeLine(line, 'input', {
        rules: this.opts.rules,
        budgetMs: this.opts.budgetMs ?? 50,
        failOpen: this.opts.failOpen === true,
        now: this.opts.now ?? (() => performance.now()),
        onEvent: this.onEvent,
      });
      r.judged.push(j);
      if (j.verdict === 'block' && !block) block = { line, rule: j.rules[0] ?? LINE_LIMIT_RULE, rules: j.rules };
    }
    if (!block) {
      r.fwd.push(raw);
      return;
    }
    const { line, rule, rules } = block;
    const message =
      rule.id === UNCHECKED_RULE.id
        ? `${UNCHECKED_MESSAGE}: ${clip(line)}`
        : `jmp: blocked by ${rule.id === 'allow-list' ? 'it is not on the allow-list of this service' : `rule ${JSON.stringify(rule.name)} (${rule.severity})`}: ${clip(line)}; it was not sent`;
    r.blocked.push({ line, rule, rules, message });
    r.toUser.push(Buffer.from(`${message}\r\n`));
  }

  private refuseOversized(r: Acc): void {
    this.texts = [];
    this.logical.reset();
    const head = logicalLine(Buffer.concat(this.parts, Math.min(this.size, 4096)).subarray(0, 4096));
    this.parts = [];
    this.size = 0;
    this.lineStart = 0;
    const line = `${head.slice(0, 200)}…`;
    const message = `jmp: a line longer than ${this.maxLineBytes} bytes cannot be checked; it was not sent`;
    r.judged.push({ line, verdict: 'block', rules: [LINE_LIMIT_RULE], source: 'input' });
    r.blocked.push({ line, rule: LINE_LIMIT_RULE, rules: [LINE_LIMIT_RULE], message });
    r.toUser.push(Buffer.from(`${message}\r\n`));
  }
}

interface Acc {
  fwd: Buffer[];
  toUser: Buffer[];
  judged: JudgedLine[];
  blocked: GuardBlock[];
}

function empty(): Acc {
  return { fwd: [], toUser: [], judged: [], blocked: [] };
}

function done(a: Acc): StdinResult {
  return {
    forward: a.fwd.length === 0 ? EMPTY : a.fwd.length === 1 ? a.fwd[0]! : Buffer.concat(a.fwd),
    toUser: a.toUser.length === 0 ? EMPTY : Buffer.concat(a.toUser),
    judged: a.judged,
    blocked: a.blocked,
  };
}

/** The command as the shell reads it: continuations joined, NULs (which bash drops) removed, trimmed. */
function logicalLine(raw: Buffer): string {
  const text = raw.toString('utf8').replaceAll('\0', '');
  const phys = text.split('\n');
  if (phys.at(-1) === '') phys.pop();
  return phys
    .map((l, i) => (i < phys.length - 1 && l.endsWith('\\') ? l.slice(0, -1) : l))
    .join('')
    .trim();
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
