// The guard of a database session: what the person sends to the database
// client (`mariadb`, `redis-cli`) is held until it forms whole statements or
// commands, each is judged, and only what passed is forwarded, rewritten as
// the unit the client acts on — so the client, and the server behind it, never
// receive a byte that was not judged. A statement too long to check, binary
// input and unbalanced quotes are refused with a clear line. Pure: bytes in,
// bytes and verdicts out; the same contract as StdinLineGuard (input/end),
// plus interrupt() for Ctrl-C, which forgets the statement being typed.
import type { GuardBlock, JudgedLine } from './guard.js';
import type { MatchedRule, Verdict } from './rules.js';
import type { StdinResult } from './stdin-guard.js';
import { SqlSplitter, DEFAULT_MAX_STATEMENT_BYTES, type SqlUnit } from './sql-split.js';
import { judgeSql, BLOCKED_CLIENT_COMMANDS, SQL_RULES } from './sql-judge.js';
import { judgeRedis, REDIS_RULES } from './redis-judge.js';
import { builtInRule } from './builtin-rule.js';

export type DbDialect = 'mariadb' | 'redis';

export interface DbGuardOptions {
  dialect: DbDialect;
  /** Longest statement (or Redis command line) judged; longer ones are refused. Default 1 MiB. */
  maxStatementBytes?: number;
  /** Rule ids turned from block to alert by the operator (e.g. 'redis-keys'). */
  alertOnly?: ReadonlySet<string>;
}

export const BINARY_RULE = builtInRule(
  'db-binary',
  'binary input (NUL or invalid UTF-8) is not sent to a database client',
  'block',
  'medium',
);

const EMPTY = Buffer.alloc(0);
const NL = 0x0a;

export class DbGuard {
  readonly dialect: DbDialect;
  private readonly max: number;
  private readonly alertOnly: ReadonlySet<string>;
  private readonly sql: SqlSplitter | null;
  /** The physical line being read (bytes, until its newline). */
  private partial: Buffer[] = [];
  private partialSize = 0;
  private partialOverflow = false;

  constructor(o: DbGuardOptions) {
    this.dialect = o.dialect;
    this.max = o.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES;
    this.alertOnly = o.alertOnly ?? new Set();
    this.sql = o.dialect === 'mariadb' ? new SqlSplitter(this.max) : null;
  }

  /** True while a statement is being typed (a continuation prompt is due). */
  get pending(): boolean {
    return this.partialSize > 0 || (this.sql?.pending ?? false);
  }

  /** The person's bytes: whole lines are split into units, judged, and what passes is forwarded. */
  input(data: Buffer): StdinResult {
    const r = result();
    let start = 0;
    for (let i = data.indexOf(NL); i >= 0; i = data.indexOf(NL, start)) {
      this.take(data.subarray(start, i));
      this.line(this.flushPartial(), r);
      start = i + 1;
    }
    this.take(data.subarray(start));
    return r;
  }

  /** The person's EOF: the last line and a statement still open are judged, as the client would run them. */
  end(): StdinResult {
    const r = result();
    if (this.partialSize > 0 || this.partialOverflow) this.line(this.flushPartial(), r);
    if (this.sql) for (const u of this.sql.end()) this.unit(u, r);
    return r;
  }

  /** Ctrl-C: the statement being typed is dropped here; nothing of it had been sent. */
  interrupt(): void {
    this.partial = [];
    this.partialSize = 0;
    this.partialOverflow = false;
    this.sql?.clear();
  }

  private take(b: Buffer): void {
    if (!b.length) return;
    if (this.partialSize + b.length > this.max) {
      this.partialOverflow = true;
      return;
    }
    this.partial.push(b);
    this.partialSize += b.length;
  }

  private flushPartial(): { bytes: Buffer; overflow: boolean } {
    const out = { bytes: Buffer.concat(this.partial), overflow: this.partialOverflow };
    this.partial = [];
    this.partialSize = 0;
    this.partialOverflow = false;
    return out;
  }

  private line({ bytes, overflow }: { bytes: Buffer; overflow: boolean }, r: StdinResult): void {
    const raw = bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes;
    const head = raw.subarray(0, 200).toString('utf8');
    if (overflow) {
      this.sql?.clear();
      return this.judged(r, head, 'block', [this.dialect === 'redis' ? REDIS_RULES.tooLong : SQL_RULES.tooLong]);
    }
    const text = raw.toString('utf8');
    // U+FFFD: bytes a terminal editor could not decode were replaced before they got here.
    if (raw.includes(0) || text.includes('\uFFFD') || !Buffer.from(text, 'utf8').equals(raw)) {
      // Binary: the statement it belongs to is dropped whole, not sent in part.
      this.sql?.clear();
      return this.judged(r, text.replace(/[^\x20-\x7e]/gu, '?').slice(0, 200), 'block', [BINARY_RULE]);
    }
    if (!this.sql) {
      if (text.trim() === '') return;
      const j = judgeRedis(text);
      return this.judged(r, text.trim(), j.verdict, j.rules, `${text}\n`);
    }
    for (const u of this.sql.line(text)) this.unit(u, r);
  }

  private unit(u: SqlUnit, r: StdinResult): void {
    if (u.kind === 'client') {
      if (u.name === 'clear') return;
      const blocked = BLOCKED_CLIENT_COMMANDS.has(u.name);
      return this.judged(
        r,
        u.text,
        blocked ? 'block' : 'pass',
        blocked ? [SQL_RULES.clientCommand] : [],
        `${u.text}\n`,
      );
    }
    const line = `${u.text}${u.terminator}`;
    if (u.overflow) return this.judged(r, `${u.text.slice(0, 200)}…`, 'block', [SQL_RULES.tooLong]);
    const j = judgeSql(u.text);
    this.judged(r, line, j.verdict, j.rules, `${u.text}${u.terminator || this.sql!.delimiter}\n`);
  }

  /** Records the verdict; forwards `send` unless blocked. */
  private judged(r: StdinResult, line: string, verdict: Verdict, found: MatchedRule[], send?: string): void {
    const rules = found.map((x) => (this.alertOnly.has(String(x.id)) ? { ...x, action: 'alert' as const } : x));
    const v: Verdict =
      verdict === 'block' && !rules.some((x) => x.action === 'block')
        ? 'alert'
        : verdict === 'pass' && rules.length
          ? 'alert'
          : verdict;
    const j: JudgedLine = { line, verdict: v, rules, source: 'input' };
    r.judged.push(j);
    if (v === 'block') {
      const rule = rules.find((x) => x.action === 'block')!;
      const block: GuardBlock = {
        line,
        rule,
        rules,
        message: `jmp: blocked by rule ${JSON.stringify(rule.name)} (${rule.severity}); not sent: ${clip(line)}`,
      };
      r.blocked.push(block);
      r.toUser = Buffer.concat([r.toUser, Buffer.from(`${block.message}\n`)]);
      return;
    }
    if (send) r.forward = Buffer.concat([r.forward, Buffer.from(send)]);
  }
}

function result(): StdinResult {
  return { forward: EMPTY, toUser: EMPTY, judged: [], blocked: [] };
}

function clip(s: string): string {
  const one = s.replace(/\s+/gu, ' ');
  return one.length > 80 ? `${one.slice(0, 77)}...` : one;
}
