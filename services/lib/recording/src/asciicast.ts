// asciicast v2 lines: the header, event lines, and a streaming UTF-8 decoder
// for the byte streams of a session. Pure: no I/O.
//
// A recording is newline-delimited JSON: one header object, then events
// `[t, code, data]` with t in seconds since the session start. Codes used here:
//   "o" target output, "i" person's input (only when input recording is on),
//   "r" resize ("COLSxROWS"), "m" marker (guard verdicts, recording notes).
// https://docs.asciinema.org/manual/asciicast/v2/

import { isAscii } from 'node:buffer';

export type EventCode = 'o' | 'i' | 'r' | 'm';
export type AsciicastEvent = [time: number, code: EventCode, data: string];

export interface AsciicastHeader {
  version: 2;
  width: number;
  height: number;
  /** Session start, unix seconds. The same in every part of a session. */
  timestamp: number;
  env?: { TERM?: string; SHELL?: string };
  title?: string;
  /** jmp's own key (players ignore unknown keys): where this part belongs. */
  jmp?: { session: string; user: string; host: string; part: number };
}

export function headerLine(h: AsciicastHeader): string {
  return JSON.stringify(h) + '\n';
}

/** One event line. `t` is preformatted seconds (see formatTime). */
export function eventLine(t: string, code: EventCode, data: string): string {
  return `[${t}, "${code}", ${JSON.stringify(data)}]\n`;
}

/** Seconds with microsecond precision, as a JSON number. */
export function formatTime(ms: number): string {
  return (ms < 0 ? 0 : ms / 1000).toFixed(6);
}

/**
 * Bytes → UTF-8 text, keeping a multi-byte character that is split across
 * chunks for the next chunk. Invalid bytes become U+FFFD, so every string it
 * returns is well-formed and JSON-safe.
 */
export class Utf8Stream {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  /**
   * The decoder holds no part of a character: nothing was decoded yet, or the last chunk
   * ended in an ASCII byte (which ends any unfinished sequence). An ASCII chunk then
   * decodes to itself, without the decoder (most terminal output, every echoed key).
   */
  private clean = true;

  write(chunk: Uint8Array): string {
    if (chunk.length === 0) return '';
    if (this.clean && isAscii(chunk)) return asBuffer(chunk).toString('latin1');
    this.clean = chunk[chunk.length - 1]! < 0x80;
    return this.decoder.decode(chunk, { stream: true });
  }

  /** What is left at the end of the stream (an incomplete character → U+FFFD). */
  end(): string {
    return this.decoder.decode();
  }
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** Parses one line of a recording; throws on anything that is not asciicast v2. */
export function parseLine(line: string): AsciicastHeader | AsciicastEvent {
  const v: unknown = JSON.parse(line);
  if (Array.isArray(v)) {
    const [t, code, data] = v as unknown[];
    if (
      typeof t !== 'number' ||
      typeof data !== 'string' ||
      (code !== 'o' && code !== 'i' && code !== 'r' && code !== 'm')
    ) {
      throw new Error('not an asciicast v2 event');
    }
    return [t, code, data];
  }
  if (v && typeof v === 'object' && (v as { version?: unknown }).version === 2) return v as AsciicastHeader;
  throw new Error('not an asciicast v2 header');
}

export function isHeader(x: AsciicastHeader | AsciicastEvent): x is AsciicastHeader {
  return !Array.isArray(x);
}
