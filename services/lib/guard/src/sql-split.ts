// Splits what a person types into a MariaDB/MySQL client into the units the
// client itself acts on, the way the `mariadb` client reads its input: SQL
// statements ended by the current delimiter (outside quotes and comments,
// `DELIMITER` changes it), `\G`/`\g`, and the client's own commands (`\!`,
// `system`, `source`, `tee`, `pager`, `edit`, …). `/*! … */` and `/*M! … */`
// are code the server runs, so a delimiter inside them ends a statement as it
// does in the client. Streaming: fed line by line, it keeps the statement
// being read. Pure: no I/O.

export type SqlUnit =
  /** A statement as the server will receive it (without its terminator). */
  | { kind: 'sql'; text: string; terminator: string; overflow?: false }
  /** A statement longer than the limit: only its head is kept; it must be refused. */
  | { kind: 'sql'; text: string; terminator: string; overflow: true }
  /** One of the client's own commands: `name` is its long name (system, source, delimiter, …). */
  | { kind: 'client'; name: string; text: string };

type Lex = 'code' | "'" | '"' | '`' | 'block-comment';

/** Long names of the backslash commands of the mariadb client; those marked take the rest of the line. */
const BACKSLASH: Record<string, { name: string; restOfLine: boolean }> = {
  '!': { name: 'system', restOfLine: true },
  '.': { name: 'source', restOfLine: true },
  T: { name: 'tee', restOfLine: true },
  t: { name: 'notee', restOfLine: false },
  P: { name: 'pager', restOfLine: true },
  n: { name: 'nopager', restOfLine: false },
  e: { name: 'edit', restOfLine: false },
  d: { name: 'delimiter', restOfLine: true },
  u: { name: 'use', restOfLine: true },
  r: { name: 'connect', restOfLine: true },
  C: { name: 'charset', restOfLine: true },
  R: { name: 'prompt', restOfLine: true },
  c: { name: 'clear', restOfLine: false },
  q: { name: 'quit', restOfLine: false },
  s: { name: 'status', restOfLine: false },
  h: { name: 'help', restOfLine: false },
  '?': { name: 'help', restOfLine: false },
  p: { name: 'print', restOfLine: false },
  W: { name: 'warnings', restOfLine: false },
  w: { name: 'nowarning', restOfLine: false },
  '#': { name: 'rehash', restOfLine: false },
  l: { name: 'resetconnection', restOfLine: false },
  x: { name: 'resetconnection', restOfLine: false },
};

/** Named commands the client recognises at the start of a line when no statement is pending. */
const NAMED = new Set([
  'system',
  'source',
  'tee',
  'notee',
  'pager',
  'nopager',
  'edit',
  'delimiter',
  'use',
  'connect',
  'charset',
  'prompt',
  'clear',
  'quit',
  'exit',
  'status',
  'help',
  'print',
  'warnings',
  'nowarning',
  'rehash',
  'resetconnection',
]);

export const DEFAULT_MAX_STATEMENT_BYTES = 1024 * 1024;

export class SqlSplitter {
  delimiter = ';';
  private buf = '';
  private lex: Lex = 'code';
  private overflow = false;
  private size = 0;
  /** The statement has code (not only comments): the client no longer reads named commands. */
  private hasCode = false;

  constructor(private readonly maxBytes = DEFAULT_MAX_STATEMENT_BYTES) {}

  /** True while a statement (or a quote or comment in it) is unfinished. */
  get pending(): boolean {
    return this.hasCode || this.lex !== 'code' || this.overflow;
  }

  /** Forgets the statement being read (Ctrl-C, `\c`). The delimiter is kept. */
  clear(): void {
    this.buf = '';
    this.lex = 'code';
    this.overflow = false;
    this.size = 0;
    this.hasCode = false;
  }

  /** One physical line (without its line end); returns the units it completes, in order. */
  line(line: string): SqlUnit[] {
    const out: SqlUnit[] = [];
    if (this.lex === 'code' && !this.hasCode && !this.overflow) {
      const named = this.named(line);
      if (named) {
        out.push(named);
        return out;
      }
    }
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (this.lex === 'block-comment') {
        const end = line.indexOf('*/', i);
        if (end < 0) {
          this.add(line.slice(i));
          i = line.length;
        } else {
          this.add(line.slice(i, end + 2));
          i = end + 2;
          this.lex = 'code';
        }
        continue;
      }
      if (this.lex !== 'code') {
        // Inside a quoted string or identifier: backslash escapes in strings, doubled quotes are two quotes.
        if (c === '\\' && this.lex !== '`') {
          this.add(line.slice(i, i + 2));
          i += 2;
          continue;
        }
        if (c === this.lex) this.lex = 'code';
        this.add(c);
        i++;
        continue;
      }
      if (line.startsWith(this.delimiter, i)) {
        this.emit(out, this.delimiter);
        i += this.delimiter.length;
        continue;
      }
      if (c === "'" || c === '"' || c === '`') {
        this.lex = c;
        this.code(c);
        i++;
        continue;
      }
      if (c === '#' || (c === '-' && line[i + 1] === '-' && (i + 2 >= line.length || /\s/u.test(line[i + 2]!)))) {
        this.add(line.slice(i));
        i = line.length;
        continue;
      }
      if (c === '/' && line[i + 1] === '*') {
        const executable = line[i + 2] === '!' || (line[i + 2] === 'M' && line[i + 3] === '!');
        if (!executable) this.lex = 'block-comment';
        if (executable) this.code('/*');
        else this.add('/*');
        i += 2;
        continue;
      }
      if (c === '\\' && i + 1 < line.length) {
        const cmd = BACKSLASH[line[i + 1]!];
        if (line[i + 1] === 'G' || line[i + 1] === 'g') {
          this.emit(out, `\\${line[i + 1]}`);
          i += 2;
          continue;
        }
        if (cmd) {
          const arg = cmd.restOfLine ? line.slice(i + 2) : '';
          const text = `\\${line[i + 1]}${arg}`;
          if (cmd.name === 'clear') this.clear();
          else if (cmd.name === 'delimiter') this.setDelimiter(arg);
          out.push({ kind: 'client', name: cmd.name, text: text.trim() });
          i = cmd.restOfLine ? line.length : i + 2;
          continue;
        }
      }
      if (/\s/u.test(c)) this.add(c);
      else this.code(c);
      i++;
    }
    if (this.buf !== '' || this.overflow) this.add('\n');
    return out;
  }

  /** The end of the input: a statement still being read is returned as it stands (the client would run it). */
  end(): SqlUnit[] {
    const out: SqlUnit[] = [];
    this.emit(out, '');
    return out;
  }

  /** A named command at the start of a line (`delimiter //`, `system ls`, `source f.sql`). */
  private named(line: string): SqlUnit | null {
    const m = /^\s*([A-Za-z]+)(?=\s|$|;)(.*)$/u.exec(line);
    if (!m) return null;
    const name = m[1]!.toLowerCase();
    if (!NAMED.has(name)) return null;
    const arg = m[2]!;
    // Commands without an argument are only commands when nothing else follows but the delimiter.
    if (!['system', 'source', 'tee', 'pager', 'delimiter', 'use', 'connect', 'charset', 'prompt'].includes(name)) {
      const rest = arg.trim();
      if (rest !== '' && rest !== this.delimiter && rest !== ';') return null;
    }
    if (name === 'use' && /^\s*[A-Za-z0-9_$`]/u.test(arg) === false) return null;
    if (name === 'delimiter') this.setDelimiter(arg);
    return { kind: 'client', name, text: line.trim() };
  }

  private setDelimiter(arg: string): void {
    const d = arg.trim().split(/\s+/u)[0] ?? '';
    // The client refuses an empty delimiter and a backslash in it; so does this.
    if (d !== '' && !d.includes('\\')) this.delimiter = d;
  }

  private add(s: string): void {
    if (this.overflow) return;
    if (this.buf === '' && this.lex === 'code' && /^\s+$/u.test(s)) return;
    this.size += Buffer.byteLength(s);
    if (this.size > this.maxBytes) {
      this.overflow = true;
      this.buf = this.buf.slice(0, 200);
      return;
    }
    this.buf += s;
  }

  private code(s: string): void {
    this.hasCode = true;
    this.add(s);
  }

  private emit(out: SqlUnit[], terminator: string): void {
    const text = this.buf.trim();
    // A statement of comments only is nothing the server runs (the client strips them).
    if (this.overflow) out.push({ kind: 'sql', text, terminator, overflow: true });
    else if (this.hasCode) out.push({ kind: 'sql', text, terminator });
    this.clear();
  }
}
