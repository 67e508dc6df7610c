// Shared by the recording tests (not used by the service).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AsciicastEvent, AsciicastHeader } from '../src/asciicast.js';
import { readRecording, type ReadOptions } from '../src/reader.js';

export async function tempDir(t: { after(f: () => Promise<void>): void }, name = 'jmp-rec-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), name));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Read {
  headers: AsciicastHeader[];
  events: AsciicastEvent[];
  damage: string[];
}

export async function readAll(uri: string, opts: ReadOptions = {}): Promise<Read> {
  const out: Read = { headers: [], events: [], damage: [] };
  for await (const x of readRecording(uri, {
    partHeaders: true,
    onDamage: (p, d) => out.damage.push(`${p}: ${d}`),
    ...opts,
  })) {
    if (x.type === 'header') out.headers.push(x.header);
    else out.events.push(x.event);
  }
  return out;
}

/** Everything of one event kind, joined. */
export function joined(events: AsciicastEvent[], code: string): string {
  return events
    .filter((e) => e[1] === code)
    .map((e) => e[2])
    .join('');
}

/** Printable text that gzip cannot shrink much (base64 of random bytes), with line ends. */
export function noise(bytes: number): string {
  return randomBytes(Math.ceil(bytes * 0.75))
    .toString('base64')
    .slice(0, bytes)
    .replace(/(.{100})/g, '$1\r\n');
}
