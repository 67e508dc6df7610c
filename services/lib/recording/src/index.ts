// Session recording for jmp-ssh: asciicast v2, gzip, streamed to local disk or
// S3 with at most `flushMs` (≤ 1 s) of a session at risk on a crash.
//
// Wiring (main.ts / the proxy):
//   const recordings = createRecordings(config.recording, { log, onNotice });
//   await recordings.recoverSpool();                      // S3 store: upload parts a crash left behind
//   const rec = recordings.start({ sessionId, user, host, width: cols, height: rows, term, startedAt });
//   remote 'data'   → rec.output(buf)     channel 'data' → rec.input(buf)
//   window-change   → rec.resize(cols, rows)
//   guard verdicts  → rec.marker(`block: ${line} (${rule})`)
//   session end     → const { uri, parts, bytes, truncated, complete } = await rec.close('exit');
// None of these throw; problems arrive through onNotice (and the log).
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@jmp/runtime/log';
import { recordingDefaults, type RecordingConfig } from './config.js';
import { LocalStore } from './local-store.js';
import { readRecording, type ReadOptions, type RecordingItem } from './reader.js';
import { SessionRecorder, type RecordingNotice, type SessionInfo, type SessionRecording } from './recorder.js';
import { createS3Client, S3Store, type SpoolRecovery } from './s3-store.js';
import type { RecordingStore } from './store.js';

export { recordingConfigSpec, recordingDefaults, type RecordingConfig } from './config.js';
export type { RecordingNotice, RecordingResult, SessionInfo, SessionRecording, NoticeType } from './recorder.js';
export { readRecording, listParts, type ReadOptions, type RecordingItem } from './reader.js';
export type { AsciicastEvent, AsciicastHeader, EventCode } from './asciicast.js';
export { createS3Client, S3Store, type SpoolRecovery } from './s3-store.js';
export { S3Objects, type ObjectInfo, type ObjectListing, type ObjectUpload } from './s3-objects.js';
export { LocalStore } from './local-store.js';
export type { RecordingStore, PartSink } from './store.js';

export interface RecordingsDeps {
  log?: Logger;
  /** Every recording problem and every truncation, per session. Exceptions it throws are ignored. */
  onNotice?: (n: RecordingNotice) => void;
  /** An S3 client to use instead of one built from the config (tests, custom credentials). */
  s3Client?: S3Client;
}

export interface Recordings {
  readonly store: RecordingStore;
  /** Begins recording one target session. Never throws. */
  start(info: SessionInfo): SessionRecording;
  /** S3 store: uploads parts left in the spool by a crash or an S3 outage. null for the local store. Never throws. */
  recoverSpool(): Promise<SpoolRecovery | null>;
  /** Reads a recording of this store back (see readRecording). */
  read(uri: string, opts?: Omit<ReadOptions, 's3'>): AsyncGenerator<RecordingItem>;
}

export function createRecordings(config: Partial<RecordingConfig> = {}, deps: RecordingsDeps = {}): Recordings {
  const c: RecordingConfig = { ...recordingDefaults, ...dropUndefined(config) };
  const store: RecordingStore = c.s3Bucket
    ? new S3Store({
        client:
          deps.s3Client ??
          createS3Client({ region: c.s3Region, endpoint: c.s3Endpoint, forcePathStyle: c.s3ForcePathStyle }),
        bucket: c.s3Bucket,
        prefix: c.s3Prefix,
        spoolDir: c.spoolDir,
        uploadPartBytes: c.s3UploadPartBytes,
        fsync: c.fsync,
      })
    : new LocalStore({ dir: c.dir, fsync: c.fsync });
  const s3 = store instanceof S3Store ? store.client : undefined;
  return {
    store,
    start: (info) => new SessionRecorder(info, { store, config: c, log: deps.log, onNotice: deps.onNotice }),
    async recoverSpool() {
      if (!(store instanceof S3Store)) return null;
      const r = await store.recoverSpool();
      if (r.uploaded.length || r.failed.length)
        deps.log?.info({ uploaded: r.uploaded.length, failed: r.failed.length }, 'recording spool recovered');
      for (const f of r.failed) deps.log?.warn({ uri: f.uri }, `spooled recording part not uploaded: ${f.error}`);
      return r;
    },
    read: (uri, opts = {}) => readRecording(uri, { ...opts, ...(s3 ? { s3 } : {}) }),
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
