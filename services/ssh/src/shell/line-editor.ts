// A small line editor for the jump shell: printable input, backspace, Ctrl-U,
// Ctrl-C, Ctrl-D, Tab completion; escape sequences (arrows) are skipped.
import { eraseKey } from './erase-keys.js';
import { EscapeSkipper } from './escapes.js';

export const EOF = Symbol('eof');
export type Completer = (line: string) => { line: string; candidates: string[] };

const MAX_LINE = 1024;

export class LineEditor {
  private buf = '';
  private readonly escapes = new EscapeSkipper();

  constructor(
    private readonly out: (s: string) => void,
    private readonly prompt: string,
    private readonly completer: Completer,
  ) {}

  start(): void {
    this.buf = '';
    this.out(this.prompt);
  }

  /** Feeds typed characters; returns the lines submitted with Enter, and EOF for Ctrl-D on an empty line. */
  feed(data: string): Array<string | typeof EOF> {
    const done: Array<string | typeof EOF> = [];
    for (const ch of data) {
      if (this.escapes.skip(ch)) continue;
      const erased = eraseKey(ch, this.buf);
      if (erased) {
        this.buf = erased.line;
        if (erased.echo) this.out(erased.echo);
        continue;
      }
      switch (ch) {
        case '\r':
        case '\n':
          this.out('\r\n');
          done.push(this.buf);
          this.buf = '';
          break;
        case '\x03': // Ctrl-C
          this.out('^C\r\n' + this.prompt);
          this.buf = '';
          break;
        case '\x04': // Ctrl-D
          if (!this.buf) done.push(EOF);
          break;
        case '\t': {
          const c = this.completer(this.buf);
          if (c.candidates.length) this.out(`\r\n${c.candidates.join('  ')}\r\n${this.prompt}${c.line}`);
          else if (c.line !== this.buf) this.out(c.line.slice(this.buf.length));
          this.buf = c.line;
          break;
        }
        default:
          if (ch >= ' ' && this.buf.length < MAX_LINE) {
            this.buf += ch;
            this.out(ch);
          }
      }
    }
    return done;
  }
}
