// Splits the user's input bytes into keys: printable runs, Enter, control
// characters, escape sequences and bracketed pastes (ESC[200~ … ESC[201~,
// which may span chunks). Bytes are kept as they came so that forwarding is
// byte-exact. Also a tiny line editor that turns keys into the text a shell
// would receive, for lines that have no echo yet (the rest of a paste).
import { StringDecoder } from 'node:string_decoder';

export type Key =
  | { kind: 'text'; bytes: Buffer; text: string }
  | { kind: 'enter'; bytes: Buffer }
  | { kind: 'control'; bytes: Buffer; code: number }
  | { kind: 'escape'; bytes: Buffer }
  | { kind: 'paste'; bytes: Buffer; text: string };

const ESC = 0x1b;
const PASTE_START = Buffer.from('\x1b[200~');
const PASTE_END = Buffer.from('\x1b[201~');

export class KeyReader {
  private readonly decoder = new StringDecoder('utf8');
  /** Bytes of a bracketed paste whose end marker has not arrived yet. */
  private paste: Buffer[] | null = null;
  private pasteBytes = 0;

  /** True while a bracketed paste is open (its bytes are kept, not returned). */
  get inPaste(): boolean {
    return this.paste !== null;
  }

  get pendingPasteBytes(): number {
    return this.pasteBytes;
  }

  push(buf: Buffer): Key[] {
    const keys: Key[] = [];
    let i = 0;
    if (this.paste) {
      const end = this.findPasteEnd(buf, 0);
      if (end < 0) {
        this.paste.push(buf);
        this.pasteBytes += buf.length;
        return keys;
      }
      this.paste.push(buf.subarray(0, end));
      keys.push(this.closePaste());
      i = end;
    }
    while (i < buf.length) {
      const b = buf[i]!;
      if (b === ESC) {
        if (buf[i + 1] === 0x5b && buf.subarray(i, i + PASTE_START.length).equals(PASTE_START)) {
          const end = this.findPasteEnd(buf, i + PASTE_START.length);
          this.paste = [];
          this.pasteBytes = 0;
          if (end < 0) {
            this.paste.push(buf.subarray(i));
            this.pasteBytes = buf.length - i;
            return keys;
          }
          this.paste.push(buf.subarray(i, end));
          keys.push(this.closePaste());
          i = end;
          continue;
        }
        const n = escapeLength(buf, i);
        keys.push({ kind: 'escape', bytes: buf.subarray(i, i + n) });
        i += n;
      } else if (b === 0x0d || b === 0x0a) {
        keys.push({ kind: 'enter', bytes: buf.subarray(i, i + 1) });
        i++;
      } else if (b < 0x20 || b === 0x7f) {
        keys.push({ kind: 'control', bytes: buf.subarray(i, i + 1), code: b });
        i++;
      } else {
        let j = i + 1;
        while (j < buf.length) {
          const c = buf[j]!;
          if (c < 0x20 || c === 0x7f) break;
          j++;
        }
        const bytes = buf.subarray(i, j);
        keys.push({ kind: 'text', bytes, text: this.decoder.write(bytes) });
        i = j;
      }
    }
    return keys;
  }

  /** Ends an open paste as if its end marker had arrived (flush after a timeout). */
  closeOpenPaste(): Key | null {
    return this.paste ? this.closePaste() : null;
  }

  private findPasteEnd(buf: Buffer, from: number): number {
    const at = buf.indexOf(PASTE_END, from);
    if (at >= 0) return at + PASTE_END.length;
    // The end marker may straddle two chunks: look at the tail of the kept bytes too.
    const last = this.paste?.[this.paste.length - 1];
    if (from === 0 && last && last.length) {
      const kept = last.subarray(-(PASTE_END.length - 1));
      const t = Buffer.concat([kept, buf.subarray(0, PASTE_END.length - 1)]).indexOf(PASTE_END);
      if (t >= 0) return t + PASTE_END.length - kept.length;
    }
    return -1;
  }

  private closePaste(): Key {
    const bytes = Buffer.concat(this.paste ?? []);
    this.paste = null;
    this.pasteBytes = 0;
    let body = bytes.subarray(PASTE_START.length);
    if (body.subarray(-PASTE_END.length).equals(PASTE_END)) body = body.subarray(0, -PASTE_END.length);
    return { kind: 'paste', bytes, text: body.toString('utf8') };
  }
}

/** Length of the escape sequence at buf[i] (ESC): CSI, SS3, ESC+char, or a lone ESC. */
function escapeLength(buf: Buffer, i: number): number {
  const next = buf[i + 1];
  if (next === undefined) return 1;
  if (next === 0x5b) {
    let j = i + 2;
    while (j < buf.length && buf[j]! >= 0x20 && buf[j]! <= 0x3f) j++;
    if (j < buf.length && buf[j]! >= 0x40 && buf[j]! <= 0x7e) return j + 1 - i;
    return j - i;
  }
  if (next === 0x4f) return buf[i + 2] === undefined ? 2 : 3;
  if (next === ESC) return 1;
  return 2;
}

/**
 * Applies keys to a line buffer the way a shell's line editor (or the tty's
 * cooked mode) would, for input whose echo is not known: printable text is
 * appended, ^U and ^C clear, ^W deletes a word, BS/DEL delete a character,
 * a tab becomes a space, escape sequences (cursor keys) are ignored. Every
 * Enter (and every newline inside a paste) completes a line.
 */
export class RawLineEditor {
  text = '';
  readonly lines: string[] = [];

  constructor(initial = '') {
    this.text = initial;
  }

  apply(key: Key): void {
    switch (key.kind) {
      case 'text':
        this.append(key.text);
        break;
      case 'paste':
        this.append(key.text);
        break;
      case 'enter':
        this.lines.push(this.text);
        this.text = '';
        break;
      case 'control':
        if (key.code === 0x15 || key.code === 0x03) this.text = '';
        else if (key.code === 0x17) this.text = this.text.replace(/\S+\s*$/u, '');
        else if (key.code === 0x7f || key.code === 0x08) this.text = [...this.text].slice(0, -1).join('');
        else if (key.code === 0x09) this.text += ' ';
        break;
      case 'escape':
        break;
    }
  }

  private append(s: string): void {
    const parts = s.replace(/\r\n?/gu, '\n').split('\n');
    for (let k = 0; k < parts.length; k++) {
      if (k > 0) {
        this.lines.push(this.text);
        this.text = '';
      }
      // Control characters inside text/paste are dropped, a tab reads as a space.
      this.text += (parts[k] ?? '').replace(/\t/gu, ' ').replace(/[\x00-\x08\x0b-\x1f\x7f]/gu, '');
    }
  }
}
