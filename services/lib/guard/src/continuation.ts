// The logical command behind physical lines. A shell reads on past a line
// that ends in an unescaped backslash, inside an unclosed quote, `$(`, `${`,
// `(` or backtick, and a here-doc's body after its line; judging each
// physical line alone would let `rm -rf \` + `/tmp/x` through. This follows
// a shell's lexing just far enough to know whether the command is complete,
// and gives the texts to judge for each line: the line itself, the command
// joined so far (backslash-newline removed, other newlines kept), and the
// lines of a here-doc body as commands of their own (`sh <<EOF` runs them).
// Over-judging is safe (a blocked line is only withheld); under-judging is
// not, so every doubt reads as "the command goes on". Pure, bounded.

type Ctx = "'" | "$'" | '"' | '`' | '$(' | '${' | '(';

interface HereDoc {
  delim: string;
  stripTabs: boolean;
}

export interface LineTexts {
  /** Texts to judge for this line, the joined command first (deduplicated, trimmed, none empty). */
  texts: string[];
  /** The command is complete after this line (the shell runs it). */
  complete: boolean;
  /** The joined command went over the bound: refuse it (and discard what the shell holds). */
  overflow: boolean;
}

export class LogicalCommand {
  /** The command read so far (empty: at a fresh prompt). */
  private text = '';
  private stack: Ctx[] = [];
  /** Here-docs whose bodies follow the current line / are being read (queue[0]). */
  private found: HereDoc[] = [];
  private bodies: HereDoc[] = [];
  /** The body of the open here-doc, read as commands. */
  private body: LogicalCommand | null = null;
  /** The last line ended in a backslash-newline (joined without a newline). */
  private joined = false;

  constructor(
    readonly maxBytes = 64 * 1024,
    private readonly depth = 0,
  ) {}

  /** True while the shell waits for more lines of the same command. */
  get pending(): boolean {
    return this.text !== '' || this.bodies.length > 0;
  }

  clone(): LogicalCommand {
    const c = new LogicalCommand(this.maxBytes, this.depth);
    c.text = this.text;
    c.stack = [...this.stack];
    c.found = [...this.found];
    c.bodies = [...this.bodies];
    c.body = this.body?.clone() ?? null;
    c.joined = this.joined;
    return c;
  }

  reset(): void {
    this.text = '';
    this.stack = [];
    this.found = [];
    this.bodies = [];
    this.body = null;
    this.joined = false;
  }

  /** One submitted physical line (without its newline). */
  feed(line: string): LineTexts {
    const texts: string[] = [];
    const add = (s: string) => {
      const t = s.trim();
      if (t !== '' && !texts.includes(t)) texts.push(t);
    };
    if (this.bodies.length > 0) return this.feedBody(line, add, texts);
    const had = this.text !== '';
    const cont = this.scan(line);
    const piece = cont ? line.slice(0, -1) : line;
    this.text = had ? `${this.text}${this.joined ? '' : '\n'}${piece}` : piece;
    this.joined = cont;
    if (this.text.length > this.maxBytes) {
      this.reset();
      return { texts: [line.trim()].filter(Boolean), complete: true, overflow: true };
    }
    if (had) add(this.text);
    add(line);
    if (cont || this.stack.length > 0) return { texts, complete: false, overflow: false };
    if (this.found.length > 0) {
      this.bodies = this.found;
      this.found = [];
      this.body = new LogicalCommand(this.maxBytes, this.depth + 1);
      return { texts, complete: false, overflow: false };
    }
    this.reset();
    return { texts, complete: true, overflow: false };
  }

  private feedBody(line: string, add: (s: string) => void, texts: string[]): LineTexts {
    const doc = this.bodies[0]!;
    const bare = doc.stripTabs ? line.replace(/^\t+/u, '') : line;
    if (bare === doc.delim || bare === `${doc.delim}\r`) {
      this.bodies.shift();
      this.body = this.bodies.length > 0 ? new LogicalCommand(this.maxBytes, this.depth + 1) : null;
      if (this.bodies.length > 0) return { texts, complete: false, overflow: false };
      this.reset();
      return { texts, complete: true, overflow: false };
    }
    // A body is judged as a script (its reader may be a shell), its own continuations joined.
    add(line);
    if (this.depth > 8) return { texts, complete: false, overflow: false };
    const r = this.body!.feed(line);
    if (r.overflow) {
      this.reset();
      return { texts, complete: true, overflow: true };
    }
    for (const t of r.texts) add(t);
    return { texts, complete: false, overflow: false };
  }

  /** Lexes one line on from the current state; true when it ends in a line-continuing backslash. */
  private scan(line: string): boolean {
    const st = this.stack;
    let wordStart = this.text === '' || !this.joined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      const top = st.at(-1);
      if (top === "'") {
        if (c === "'") st.pop();
        continue;
      }
      if (top === "$'") {
        if (c === '\\') i++;
        else if (c === "'") st.pop();
        continue;
      }
      if (c === '\\') {
        if (i === line.length - 1) return true;
        i++;
        wordStart = false;
        continue;
      }
      if (top === '"') {
        if (c === '"') st.pop();
        else if (c === '`') st.push('`');
        else if (c === '$' && line[i + 1] === '(') {
          st.push('$(');
          i++;
        } else if (c === '$' && line[i + 1] === '{') {
          st.push('${');
          i++;
        }
        continue;
      }
      // Code: top level, $( ), ( ), ` `, ${ }.
      if (c === '#' && wordStart && top !== '${') break; // a comment: the rest of the line is not read
      if (c === "'") st.push(line[i - 1] === '$' ? "$'" : "'");
      else if (c === '"') st.push('"');
      else if (c === '`') {
        if (top === '`') st.pop();
        else st.push('`');
      } else if (c === '$' && line[i + 1] === '(') {
        st.push('$(');
        i++;
      } else if (c === '$' && line[i + 1] === '{') {
        st.push('${');
        i++;
      } else if (c === '(') st.push('(');
      else if (c === ')') {
        if (top === '(' || top === '$(') st.pop();
      } else if (c === '}') {
        if (top === '${') st.pop();
      } else if (c === '<' && line[i + 1] === '<' && top !== '${') {
        if (line[i + 2] === '<')
          i += 2; // a here-string, not a here-doc
        else i = this.hereDoc(line, i + 2);
        wordStart = true;
        continue;
      }
      wordStart = /[\s;&|()<>]/u.test(c);
    }
    return false;
  }

  /** Reads a here-doc operator's word from `at` (just after `<<`); returns the index of its last character. */
  private hereDoc(line: string, at: number): number {
    let i = at;
    const stripTabs = line[i] === '-';
    if (stripTabs) i++;
    while (line[i] === ' ' || line[i] === '\t') i++;
    let delim = '';
    let q: string | null = null;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (q) {
        if (c === q) q = null;
        else delim += c;
        continue;
      }
      if (c === "'" || c === '"') {
        q = c;
        continue;
      }
      if (c === '\\') {
        i++;
        if (i < line.length) delim += line[i];
        continue;
      }
      if (/[\s;&|()<>]/u.test(c)) break;
      delim += c;
    }
    // An unterminated quote or an empty word: bash reports an error; read nothing more as a body.
    if (delim !== '' && q === null) this.found.push({ delim, stripTabs });
    return i - 1;
  }
}
