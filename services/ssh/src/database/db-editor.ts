// The line editor of a database terminal: jmp-ssh edits the line itself (the
// target's client reads whole statements from the guard, with no terminal of
// its own), so keys come in and echo, submitted lines, Ctrl-C and Ctrl-D come
// out. Printable input, Backspace, Ctrl-U, Enter (also inside a paste);
// escape sequences (arrows, bracketed-paste marks) are skipped. Pure.
import { eraseKey } from '../shell/erase-keys.js';
import { EscapeSkipper } from '../shell/escapes.js';

export type EditorEvent =
  { type: 'echo'; text: string } | { type: 'line'; text: string } | { type: 'interrupt' } | { type: 'eof' };

/** A line longer than this is cut (the guard refuses statements far shorter). */
export const MAX_EDITOR_LINE = 16 * 1024 * 1024;

export class DbEditor {
  private buf = '';
  private readonly escapes = new EscapeSkipper();
  private lastCr = false;

  get line(): string {
    return this.buf;
  }

  feed(data: string): EditorEvent[] {
    const out: EditorEvent[] = [];
    let echo = '';
    const flush = () => {
      if (echo) out.push({ type: 'echo', text: echo });
      echo = '';
    };
    for (const ch of data) {
      const cr = this.lastCr;
      this.lastCr = false;
      if (this.escapes.skip(ch)) continue;
      const erased = eraseKey(ch, this.buf);
      if (erased) {
        this.buf = erased.line;
        echo += erased.echo;
        continue;
      }
      switch (ch) {
        case '\r':
        case '\n':
          if (ch === '\n' && cr) break; // CR LF is one Enter
          this.lastCr = ch === '\r';
          echo += '\r\n';
          flush();
          out.push({ type: 'line', text: this.buf });
          this.buf = '';
          break;
        case '\x03':
          echo += '^C\r\n';
          flush();
          this.buf = '';
          out.push({ type: 'interrupt' });
          break;
        case '\x04':
          if (this.buf === '') {
            flush();
            out.push({ type: 'eof' });
            return out;
          }
          break;
        case '\t':
          this.buf += ' ';
          echo += ' ';
          break;
        default:
          if (ch < ' ' && ch !== '\t') break;
          if (this.buf.length < MAX_EDITOR_LINE) {
            this.buf += ch;
            echo += ch;
          }
      }
    }
    flush();
    return out;
  }
}
