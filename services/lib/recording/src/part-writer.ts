// Part writing: the sequence of part files of one session. Opens a part in
// the store (retried no sooner than a second after a failure), gzips each
// batch of event lines into it with a sync flush and appends the bytes to its
// sink, rotates to a new part once `partBytes` are written, gives up a part
// the store keeps failing (the next one starts with a recording_gap marker)
// and ends the last one with its gzip trailer. It never decides what is
// recorded: that is the buffer's and the limits' job.
import { performance } from 'node:perf_hooks';
import { eventLine, formatTime } from './asciicast.js';
import { SyncFlushGzip } from './gzip-stream.js';
import { errorMessage, partKey, type PartSink, type RecordingStore } from './store.js';

const OPEN_RETRY_MS = 1000;

export type PartReport = (type: 'recording_gap' | 'recording_error', code: string, message: string) => void;

export interface PartWriterOptions {
  store: RecordingStore;
  /** The session key (sessionKey()); part keys are made from it. */
  sessionKey: string;
  gzipLevel: number;
  /** Compressed size after which the part is closed and the next one begun. */
  partBytes: number;
  /** A part whose sink holds more unwritten bytes than this after a failed append is given up. */
  maxQueuedBytes: number;
  /** The header line of part `n`, whose terminal starts at `size` (columns, rows). */
  header(n: number, size: readonly [number, number]): string;
  /** The terminal size now: a part begun after this one starts with it. */
  size(): [number, number];
  /** Milliseconds since the session start (the time of a gap marker). */
  clock(): number;
  report: PartReport;
}

interface Part {
  n: number;
  gz: SyncFlushGzip;
  sink: PartSink;
  bytes: number;
  header: string;
}

export class PartWriter {
  private part: Part | null = null;
  private opened = 0;
  private storedBytes = 0;
  private inflightChars = 0;
  private openRetryAt = 0;
  private lostFlag = false;
  /** A part was given up: the next part starts with a recording_gap marker. */
  private partGap = false;
  /** Terminal size when the next part begins (events after that moment may resize it). */
  private nextSize: [number, number];

  constructor(private readonly o: PartWriterOptions) {
    this.nextSize = o.size();
  }

  /** Parts opened so far (0001 … parts). */
  get parts(): number {
    return this.opened;
  }

  /** Compressed bytes written (minus what a given-up part never made durable). */
  get stored(): number {
    return this.storedBytes;
  }

  /** Characters being compressed right now. */
  get inflight(): number {
    return this.inflightChars;
  }

  /** Compressed bytes handed to the sink and not durable yet. */
  get queuedBytes(): number {
    return this.part?.sink.queuedBytes ?? 0;
  }

  /** Some of the session was not stored (a part was given up or could not be completed). */
  get lost(): boolean {
    return this.lostFlag;
  }

  get hasPart(): boolean {
    return this.part !== null;
  }

  /** Lets the next ready() try to open a part at once (closing: no waiting out the retry delay). */
  retryNow(): void {
    this.openRetryAt = 0;
  }

  /** Makes sure a part is open; false when none can be opened now. */
  async ready(): Promise<boolean> {
    if (this.part) return true;
    if (performance.now() < this.openRetryAt) return false;
    const n = this.opened + 1;
    const key = partKey(this.o.sessionKey, n);
    let sink: PartSink;
    try {
      sink = await this.o.store.openPart(key, (code, message) => this.o.report('recording_error', code, message));
    } catch (err) {
      this.openRetryAt = performance.now() + OPEN_RETRY_MS;
      this.o.report(
        'recording_error',
        'recording_open_failed',
        `cannot create recording part ${key} ` +
          `(${errorMessage(err)}); output is kept in memory up to ${this.o.maxQueuedBytes} bytes and retried`,
      );
      return false;
    }
    this.opened = n;
    let header = this.o.header(n, this.nextSize);
    if (this.partGap) {
      this.partGap = false;
      header += eventLine(
        formatTime(this.o.clock()),
        'm',
        'recording_gap: the previous part could not be written completely; events may be missing here',
      );
    }
    this.part = { n, gz: new SyncFlushGzip(this.o.gzipLevel), sink, bytes: 0, header };
    return true;
  }

  /**
   * Compresses `text` (`chars` characters counted as waiting) into the open
   * part (call ready() first, with no await in between) and appends it. A
   * failed append is reported and retried with the next one. Rejects when
   * compression fails; the caller then gives the part up with drop().
   */
  async write(text: string, chars: number): Promise<void> {
    const part = this.part!;
    const data = part.header + text;
    part.header = '';
    this.inflightChars = chars;
    let z: Buffer;
    try {
      z = await part.gz.push(Buffer.from(data, 'utf8'));
    } finally {
      this.inflightChars = 0;
    }
    part.bytes += z.length;
    this.storedBytes += z.length;
    try {
      await part.sink.append(z);
    } catch (err) {
      this.o.report(
        'recording_error',
        'recording_write_failed',
        `cannot write recording part ${part.n} (${errorMessage(err)}); retrying`,
      );
      if (part.sink.queuedBytes > this.o.maxQueuedBytes) await this.drop('the store kept failing');
    }
    if (this.part && this.part.bytes >= this.o.partBytes) await this.finish();
  }

  /** Ends the current part, if any: gzip trailer, complete. */
  async finish(): Promise<void> {
    const part = this.part;
    if (!part) return;
    this.part = null;
    this.nextSize = this.o.size();
    try {
      const tail = await part.gz.end();
      part.bytes += tail.length;
      this.storedBytes += tail.length;
      await part.sink.append(tail);
      await part.sink.complete();
    } catch (err) {
      this.lostFlag = true;
      this.storedBytes -= part.sink.queuedBytes;
      this.o.report(
        'recording_error',
        'recording_write_failed',
        `recording part ${part.n} could not be completed (${errorMessage(err)})`,
      );
      await part.sink.abandon().catch(() => {});
    }
  }

  /** Gives up the current part, if any; the next ready() begins a new one. */
  async drop(why: string): Promise<void> {
    const part = this.part;
    if (!part) return;
    this.part = null;
    this.nextSize = this.o.size();
    this.lostFlag = true;
    this.partGap = true;
    this.storedBytes -= part.sink.queuedBytes;
    part.gz.destroy();
    await part.sink.abandon().catch(() => {});
    this.o.report(
      'recording_gap',
      'recording_part_abandoned',
      `recording part ${part.n} was given up (${why}); recording goes on in part ${part.n + 1}`,
    );
  }
}
