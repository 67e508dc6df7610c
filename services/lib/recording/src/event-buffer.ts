// Event buffering, pure: turns a session's text, resizes and markers into
// asciicast v2 event lines held in memory until the recorder stores them.
// Consecutive chunks of one stream a few ms apart become one line (fewer,
// larger lines). No I/O and no clock: the caller passes the time of each
// event (ms since the session start), so the unit is deterministic.
import { eventLine, formatTime, type EventCode } from './asciicast.js';

/** Consecutive output chunks within this many ms become one event (fewer, larger lines). */
export const COALESCE_MS = 5;
export const COALESCE_MAX = 64 * 1024;
/** Estimated JSON and time characters of an event line beyond its text. */
export const LINE_OVERHEAD = 24;

/** Lines taken for storing: their text, and how many characters they counted in `pending`. */
export interface Batch {
  text: string;
  size: number;
}

export class EventBuffer {
  private lines: string[] = [];
  private open: { code: EventCode; t: string; at: number; texts: string[]; size: number } | null = null;
  /** Characters waiting (an estimate for the open line; exact once it is sealed). */
  private waiting = 0;

  get pending(): number {
    return this.waiting;
  }

  /** True when some event waits, sealed or not. */
  get hasEvents(): boolean {
    return this.lines.length > 0 || this.open !== null;
  }

  /** True when a sealed line waits (seal() first to count the open one). */
  get hasLines(): boolean {
    return this.lines.length > 0;
  }

  /** Text of stream `code` at `at` ms: joins the open line of that stream if it is recent and not too long. */
  text(code: 'o' | 'i', s: string, at: number): void {
    const o = this.open;
    if (o && o.code === code && at - o.at <= COALESCE_MS && o.size < COALESCE_MAX) {
      o.texts.push(s);
      o.size += s.length;
      this.waiting += s.length;
    } else {
      this.seal();
      this.open = { code, t: formatTime(at), at, texts: [s], size: s.length };
      this.waiting += s.length + LINE_OVERHEAD;
    }
  }

  /** A whole event (resize, marker) at `at` ms; it ends the open line. */
  event(code: EventCode, data: string, at: number): void {
    this.seal();
    const line = eventLine(formatTime(at), code, data);
    this.lines.push(line);
    this.waiting += line.length;
  }

  /** Ends the open line, so it can be taken. */
  seal(): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    const line = eventLine(o.t, o.code, o.texts.length === 1 ? o.texts[0]! : o.texts.join(''));
    this.lines.push(line);
    this.waiting += line.length - o.size - LINE_OVERHEAD; // escapes make the line longer than its text
  }

  /** Takes sealed lines in order: at least one, then while under `max` characters. */
  take(max: number): Batch {
    const lines = this.lines;
    let n = 0,
      size = 0;
    while (n < lines.length && (n === 0 || size < max)) size += lines[n++]!.length;
    const all = n === lines.length;
    const text = all ? lines.join('') : lines.slice(0, n).join('');
    this.lines = all ? [] : lines.slice(n);
    this.waiting -= size;
    return { text, size };
  }
}

/**
 * Output without NUL bytes. A terminal ignores NUL (a fill character in
 * ECMA-48; xterm drops it), so a replay looks the same, while asciicast would
 * store each one as six characters (`\u0000`) — a flood of them (`cat` of a
 * binary, /dev/zero) would cost the recorder six times its size.
 */
export function withoutNul(data: Uint8Array): Uint8Array {
  let i = Buffer.prototype.indexOf.call(data, 0);
  if (i === -1) return data;
  const out = Buffer.allocUnsafe(data.length);
  let n = 0,
    from = 0;
  while (i !== -1) {
    if (i > from) n += Buffer.prototype.copy.call(data, out, n, from, i);
    from = i + 1;
    while (from < data.length && data[from] === 0) from++;
    i = from < data.length ? Buffer.prototype.indexOf.call(data, 0, from) : -1;
  }
  if (from < data.length) n += Buffer.prototype.copy.call(data, out, n, from, data.length);
  return out.subarray(0, n);
}
