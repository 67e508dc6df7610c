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

export interface StdinGuardOptions {
  /** null only when the operator allows sessions without rules: lines then pass as guard_skipped. */
  rules: CompiledRules | null;
  /** A line (with its backslash continuations) longer than this is refused, not buffered. Default 64 KiB. */
  maxLineBytes?: number;
  onEvent?: (e: GuardEvent) => void;
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
  id: 'line-limit', name: 'line too long to check', pattern: '', action: 'block', severity: 'high', list: 'deny',
});

export class StdinLineGuard {
  private readonly maxLineBytes: number;
  private readonly onEvent: (e: GuardEvent) => void;
  /** The line being read: physical lines joined by backslash-newline, and the unfinished tail. */
  private parts: Buffer[] = [];
  private size = 0;
  /** The rest of a refused over-long line is dropped up to its newline. */
  private discarding = false;
  private ended = false;

  constructor(private readonly opts: StdinGuardOptions) {
    this.maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
    this.onEvent = opts.onEvent ?? (() => {});
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
      // bash reads a line ending in an unescaped backslash together with the next one.
      if (continues(piece)) continue;
      this.judgePending(r);
    }
    return done(r);
  }

  /** The person's EOF: a last line without a newline is judged too. Later input is ignored. */
  end(): StdinResult {
    const r = empty();
    if (this.ended) return done(r);
    this.ended = true;
    if (!this.discarding && this.size > 0) this.judgePending(r);
    this.parts = [];
    this.size = 0;
    return done(r);
  }

  private judgePending(r: Acc): void {
    const raw = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const line = logicalLine(raw);
    if (line === '') { r.fwd.push(raw); return; }
    const { rules } = this.opts;
    if (!rules) {
      this.onEvent({ type: 'guard_skipped', reason: 'no_rules', line, elapsedMs: 0, budgetMs: 0 });
      r.judged.push({ line, verdict: 'pass', rules: [], source: 'input', skipped: 'no_rules' });
      r.fwd.push(raw);
      return;
    }
    const m = rules.match(line);
    const ordered = m.blockedBy ? [m.blockedBy, ...m.rules.filter((x) => x !== m.blockedBy)] : m.rules;
    r.judged.push({ line, verdict: m.verdict, rules: ordered, source: 'input' });
    if (m.verdict !== 'block') { r.fwd.push(raw); return; }
    const rule = m.blockedBy ?? ordered[0] ?? LINE_LIMIT_RULE;
    const why = rule.id === 'allow-list' ? 'it is not on the allow-list of this service' : `rule ${JSON.stringify(rule.name)} (${rule.severity})`;
    const message = `jmp: blocked by ${why}: ${clip(line)}; it was not sent`;
    r.blocked.push({ line, rule, rules: ordered, message });
    r.toUser.push(Buffer.from(`${message}\r\n`));
  }

  private refuseOversized(r: Acc): void {
    const head = logicalLine(Buffer.concat(this.parts, Math.min(this.size, 4096)).subarray(0, 4096));
    this.parts = [];
    this.size = 0;
    const line = `${head.slice(0, 200)}…`;
    const message = `jmp: a line longer than ${this.maxLineBytes} bytes cannot be checked; it was not sent`;
    r.judged.push({ line, verdict: 'block', rules: [LINE_LIMIT_RULE], source: 'input' });
    r.blocked.push({ line, rule: LINE_LIMIT_RULE, rules: [LINE_LIMIT_RULE], message });
    r.toUser.push(Buffer.from(`${message}\r\n`));
  }
}

interface Acc { fwd: Buffer[]; toUser: Buffer[]; judged: JudgedLine[]; blocked: GuardBlock[] }

function empty(): Acc {
  return { fwd: [], toUser: [], judged: [], blocked: [] };
}

function done(a: Acc): StdinResult {
  return {
    forward: a.fwd.length === 0 ? EMPTY : a.fwd.length === 1 ? a.fwd[0]! : Buffer.concat(a.fwd),
    toUser: a.toUser.length === 0 ? EMPTY : Buffer.concat(a.toUser),
    judged: a.judged, blocked: a.blocked,
  };
}

/** A physical line (ending in \n) whose last character before the newline is an unescaped backslash. */
function continues(piece: Buffer): boolean {
  let n = 0;
  for (let i = piece.length - 2; i >= 0 && piece[i] === 0x5c; i--) n++;
  return n % 2 === 1;
}

/** The command as the shell reads it: continuations joined, NULs (which bash drops) removed, trimmed. */
function logicalLine(raw: Buffer): string {
  const text = raw.toString('utf8').replaceAll('\0', '');
  const phys = text.split('\n');
  if (phys.at(-1) === '') phys.pop();
  return phys.map((l, i) => (i < phys.length - 1 && l.endsWith('\\') ? l.slice(0, -1) : l)).join('').trim();
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
