// A desktop's recording into the recording store once it ended. guacd
// writes it to JMP_RDP_RECORDING_DIR/<session id> and keeps writing until its
// connection process ends, so the file is taken once its size has stopped
// changing. It is stored as gzip parts like terminal recordings
// (`<day>/<session>.part-NNNN.guac.gz`, at most partBytes of the raw stream
// each, maxBytes in all), then removed from local disk.
import { createReadStream } from 'node:fs';
import { chmod, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from '@jmp/runtime';
import type { RecordingStore } from '@jmp/recording';
import { sessionKey } from '@jmp/recording/store';

export interface HandOffOptions {
  store: RecordingStore;
  dir: string;
  partBytes: number;
  maxBytes: number;
  log: Logger;
  /** The file counts as finished once its size held this long (default 500 ms), waiting at most waitMs. */
  settleMs?: number;
  waitMs?: number;
}

export const guacPartKey = (session: string, part: number) =>
  `${session}.part-${String(part).padStart(4, '0')}.guac.gz`;

/**
 * The directory guacd records into: group-writable and setgid, so guacd (in
 * jmp-rdp's group) can create files there and every file it writes belongs to
 * that group, which lets jmp-rdp read and remove them; nobody else may look.
 */
export async function prepareRecordingDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o2770);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function settledSize(file: string, settleMs: number, waitMs: number): Promise<number | null> {
  const deadline = Date.now() + waitMs;
  // guacd creates the file when the connection starts: none by now means none at all.
  const appeared = Date.now() + 1000;
  let last = -1;
  let since = Date.now();
  for (;;) {
    const size = await stat(file).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== last) {
      last = size;
      since = Date.now();
    } else if (size >= 0 && Date.now() - since >= settleMs) return size;
    if (size < 0 && Date.now() > appeared) return null;
    if (Date.now() > deadline) return size >= 0 ? size : null;
    await sleep(100);
  }
}

/** Stores the recording of session `id` (started at `startedAt`); its URI, or undefined when guacd wrote none. */
export async function storeRecording(o: HandOffOptions, id: string, startedAt: Date): Promise<string | undefined> {
  const file = join(o.dir, id);
  const size = await settledSize(file, o.settleMs ?? 500, o.waitMs ?? 10_000);
  if (size === null) return undefined;
  const key = sessionKey(id, startedAt);
  let part = 0;
  let stored = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (!pendingBytes) return;
    const sink = await o.store.openPart(guacPartKey(key, ++part), (code, message) =>
      o.log.warn({ session: id, code }, `recording store: ${message}`),
    );
    try {
      await sink.append(gzipSync(Buffer.concat(pending)));
      await sink.complete();
    } catch (err) {
      await sink.abandon();
      throw err;
    }
    pending = [];
    pendingBytes = 0;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    let c = chunk;
    if (stored + c.length > o.maxBytes) c = c.subarray(0, Math.max(0, o.maxBytes - stored));
    stored += c.length;
    while (c.length) {
      const room = o.partBytes - pendingBytes;
      pending.push(c.subarray(0, room));
      pendingBytes += Math.min(room, c.length);
      c = c.subarray(room);
      if (pendingBytes >= o.partBytes) await flush();
    }
    if (stored >= o.maxBytes) {
      o.log.warn({ session: id, maxBytes: o.maxBytes }, 'desktop recording truncated at the size cap');
      break;
    }
  }
  await flush();
  await rm(file, { force: true });
  o.log.info({ session: id, bytes: stored, parts: part }, 'desktop recording stored');
  return o.store.sessionUri(key);
}
