// The recorder of one target session. The proxy hands it the two byte streams
// and the resizes; it turns them into asciicast v2 event lines in memory and,
// at most `flushMs` after an event arrived (or as soon as `flushBytes` of text
// waits), compresses them into the current part with a sync flush and appends
// the bytes to the store, which makes them durable before the next flush
// starts. The calls the proxy makes are synchronous and cheap: no syscalls and
// no awaiting per chunk; all I/O happens in the batched flush.
//
// Recording never fails the session: every error is caught, logged and
// reported through onNotice, and the recorder carries on as best it can (a
// part that cannot be written is given up and a new one begun, with a
// `recording_gap` marker; output that cannot be buffered while the store is
// slow is dropped, with a marker). Operators may later want recording to be
// mandatory (end the session when a recording_error arrives); that decision
// belongs to the proxy, which gets every problem through onNotice.
import { performance } from 'node:perf_hooks';
import type { Logger } from '@jmp/runtime/log';
import { eventLine, formatTime, headerLine, Utf8Stream, type EventCode } from './asciicast.js';
import type { RecordingConfig } from './config.js';
import { SyncFlushGzip } from './gzip-stream.js';
import { errorMessage, partKey, sessionKey, type PartSink, type RecordingStore } from './store.js';

export interface SessionInfo {
  sessionId: string;
  user: string;
  host: string;
  /** Terminal size at the start (columns, rows). */
  width: number;
  height: number;
  term?: string | undefined;
  /** The target's shell, when known (the proxy usually does not know it). */
  shell?: string | undefined;
  /** Session start (default: now). Event times count from it. */
  startedAt?: Date | undefined;
}

export interface RecordingResult {
  /** Session URI: `file:///…/<date>/<session>` or `s3://bucket/…/<date>/<session>`. */
  uri: string;
  /** Part files written (0001 … parts). */
  parts: number;
  /** Compressed bytes written. */
  bytes: number;
  /** The total cap stopped the recording before the session ended. */
  truncated: boolean;
  /** false when some of the session could not be stored (errors were reported), or still waits in the S3 spool. */
  complete: boolean;
  reason: string;
}

export type NoticeType = 'recording_truncated' | 'recording_gap' | 'recording_error';

export interface RecordingNotice {
  type: NoticeType;
  /** Machine code, e.g. recording_write_failed, recording_open_failed, recording_upload_failed. */
  code: string;
  sessionId: string;
  uri: string;
  message: string;
}

export interface RecorderOptions {
  store: RecordingStore;
  config: Pick<RecordingConfig, 'recordInput' | 'flushMs' | 'flushBytes' | 'partBytes' | 'maxBytes' | 'maxBacklogBytes' | 'gzipLevel'>;
  log?: Logger | undefined;
  onNotice?: ((n: RecordingNotice) => void) | undefined;
}

/** What the proxy calls for one target session. None of these throw. */
export interface SessionRecording {
  readonly uri: string;
  /** Target output (what the person sees). */
  output(data: Uint8Array): void;
  /** The person's keystrokes; ignored unless input recording is on. */
  input(data: Uint8Array): void;
  resize(cols: number, rows: number): void;
  /** A marker, e.g. a guard verdict `block: rm -rf / (rule 12)`. */
  marker(label: string): void;
  /** Event text waiting to be stored (grows when the store is slow). */
  readonly backlogBytes: number;
  /** Flushes, closes the last part and says what was stored. Never rejects. */
  close(reason: string): Promise<RecordingResult>;
}

/** Consecutive output chunks within this many ms become one event (fewer, larger lines). */
const COALESCE_MS = 5;
const COALESCE_MAX = 64 * 1024;
/** Estimated JSON and time characters of an event line beyond its text. */
const LINE_OVERHEAD = 24;
/** Largest text compressed in one go (characters). */
const MAX_BATCH = 4 * 1024 * 1024;
/** Room kept under maxBytes for the truncation marker and the gzip trailer. */
const RESERVE = 4096;
const MAX_LABEL = 4096;
const OPEN_RETRY_MS = 1000;
const REPORT_EVERY_MS = 30_000;

interface Part { n: number; gz: SyncFlushGzip; sink: PartSink; bytes: number; header: string }

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
  let n = 0, from = 0;
  while (i !== -1) {
    if (i > from) n += Buffer.prototype.copy.call(data, out, n, from, i);
    from = i + 1;
    while (from < data.length && data[from] === 0) from++;
    i = from < data.length ? Buffer.prototype.indexOf.call(data, 0, from) : -1;
  }
  if (from < data.length) n += Buffer.prototype.copy.call(data, out, n, from, data.length);
  return out.subarray(0, n);
}

export class SessionRecorder implements SessionRecording {
  readonly uri: string;
  private readonly key: string;
  private readonly t0: number;
  private readonly startedAt: Date;
  private readonly outText = new Utf8Stream();
  private readonly inText = new Utf8Stream();
  private cols: number;
  private rows: number;
  /** Terminal size when the next part begins (events after that moment may resize it). */
  private partSize: [number, number];

  private lines: string[] = [];
  private pending = 0;
  private open: { code: EventCode; t: string; at: number; texts: string[]; size: number } | null = null;
  private inflight = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  private part: Part | null = null;
  private partsOpened = 0;
  private stored = 0;
  private openRetryAt = 0;
  private truncated = false;
  private closed = false;
  private closing: Promise<RecordingResult> | null = null;
  private lost = false;
  private dropped = 0;
  private backlogReported = false;
  /** A part was given up: the next part starts with a recording_gap marker. */
  private partGap = false;
  private markersAfterCap = 0;
  private readonly lastReport = new Map<string, number>();

  constructor(private readonly info: SessionInfo, private readonly opts: RecorderOptions) {
    const s = info.startedAt;
    this.startedAt = s instanceof Date && !Number.isNaN(s.getTime()) ? s : new Date();
    this.t0 = performance.now() - (Date.now() - this.startedAt.getTime());
    this.key = sessionKey(String(info.sessionId), this.startedAt);
    this.uri = opts.store.sessionUri(this.key);
    this.cols = sane(info.width, 80);
    this.rows = sane(info.height, 24);
    this.partSize = [this.cols, this.rows];
  }

  get backlogBytes(): number {
    return this.pending + this.inflight + (this.part?.sink.queuedBytes ?? 0);
  }

  output(data: Uint8Array): void {
    if (this.closed || this.truncated) return;
    try {
      const s = this.outText.write(withoutNul(data));
      if (s) this.text('o', s);
    } catch (err) { this.report('recording_error', 'recording_internal', errorMessage(err)); }
  }

  input(data: Uint8Array): void {
    if (this.closed || this.truncated || !this.opts.config.recordInput) return;
    try {
      const s = this.inText.write(data);
      if (s) this.text('i', s);
    } catch (err) { this.report('recording_error', 'recording_internal', errorMessage(err)); }
  }

  resize(cols: number, rows: number): void {
    if (this.closed || this.truncated) return;
    try {
      this.cols = sane(cols, this.cols);
      this.rows = sane(rows, this.rows);
      this.event('r', `${this.cols}x${this.rows}`);
    } catch (err) { this.report('recording_error', 'recording_internal', errorMessage(err)); }
  }

  marker(label: string): void {
    if (this.closed) return;
    // Markers (guard verdicts) are still kept after the cap, but not without end.
    if (this.truncated && ++this.markersAfterCap > 1000) return;
    try {
      this.event('m', String(label).slice(0, MAX_LABEL));
    } catch (err) { this.report('recording_error', 'recording_internal', errorMessage(err)); }
  }

  close(reason: string): Promise<RecordingResult> {
    this.closing ??= this.finish(reason).catch((err: unknown) => {
      this.lost = true;
      this.report('recording_error', 'recording_internal', errorMessage(err));
      return this.result(reason);
    });
    return this.closing;
  }

  // ---- events ------------------------------------------------------------

  private text(code: 'o' | 'i', s: string): void {
    if (this.backlogBytes > this.opts.config.maxBacklogBytes) {
      this.dropped += s.length;
      if (!this.backlogReported) {
        this.backlogReported = true;
        this.report('recording_gap', 'recording_backlog_full', `the recording store is too slow; output is being dropped (backlog over ${this.opts.config.maxBacklogBytes} bytes)`);
      }
      return;
    }
    if (this.dropped) this.noteDropped();
    const now = performance.now();
    if (this.overCap(s.length + 40)) { this.truncate(); return; }
    const o = this.open;
    if (o && o.code === code && now - o.at <= COALESCE_MS && o.size < COALESCE_MAX) {
      o.texts.push(s);
      o.size += s.length;
      this.pending += s.length;
    } else {
      this.closeOpen();
      this.open = { code, t: formatTime(now - this.t0), at: now, texts: [s], size: s.length };
      this.pending += s.length + LINE_OVERHEAD;
    }
    this.schedule();
  }

  private event(code: EventCode, data: string): void {
    this.closeOpen();
    const line = eventLine(formatTime(performance.now() - this.t0), code, data);
    this.lines.push(line);
    this.pending += line.length;
    this.schedule();
  }

  private closeOpen(): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    const line = eventLine(o.t, o.code, o.texts.length === 1 ? o.texts[0]! : o.texts.join(''));
    this.lines.push(line);
    this.pending += line.length - o.size - LINE_OVERHEAD; // escapes make the line longer than its text
  }

  private noteDropped(): void {
    const n = this.dropped;
    this.dropped = 0;
    this.backlogReported = false;
    this.lost = true;
    this.event('m', `recording_gap: ${n} characters of output were not recorded (the store was too slow)`);
  }

  /** Compressed bytes stored plus text not compressed yet (an upper bound of its compressed size). */
  private overCap(more: number): boolean {
    return this.stored + this.inflight + this.pending + more > this.opts.config.maxBytes - RESERVE;
  }

  private truncate(): void {
    if (this.truncated) return;
    this.truncated = true;
    const max = this.opts.config.maxBytes;
    this.event('m', `recording_truncated: this session's recording reached its limit of ${max} bytes; the rest of the session is not recorded`);
    this.report('recording_truncated', 'recording_truncated', `recording stopped at the limit of ${max} bytes; the session goes on unrecorded`);
    this.kick();
  }

  // ---- flushing -----------------------------------------------------------

  private schedule(): void {
    if (this.pending >= this.opts.config.flushBytes) this.kick();
    else if (!this.timer) this.armTimer();
  }

  private armTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => { this.timer = null; this.kick(); }, this.opts.config.flushMs);
    this.timer.unref();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.closed) return;
      if (this.pending >= this.opts.config.flushBytes) this.kick();
      else if (this.lines.length || this.open) this.armTimer();
    });
  }

  private async drain(): Promise<void> {
    do {
      if (!(await this.flushOnce(false))) break;
    } while (this.pending >= this.opts.config.flushBytes && !this.closed);
  }

  /** Stores every waiting event in the current part; false when nothing could be done. */
  private async flushOnce(force: boolean): Promise<boolean> {
    try {
      this.closeOpen();
      if (!this.lines.length && !force) return false;
      if (!this.part && !(await this.openPart())) return false;
      const part = this.part!;
      // At most MAX_BATCH characters per gzip call, whatever waits.
      let n = 0, size = 0;
      while (n < this.lines.length && (n === 0 || size < MAX_BATCH)) size += this.lines[n++]!.length;
      const text = part.header + (n === this.lines.length ? this.lines.join('') : this.lines.slice(0, n).join(''));
      part.header = '';
      this.lines = n === this.lines.length ? [] : this.lines.slice(n);
      this.pending -= size;
      this.inflight = size;
      let z: Buffer;
      try {
        z = await part.gz.push(Buffer.from(text, 'utf8'));
      } finally {
        this.inflight = 0;
      }
      part.bytes += z.length;
      this.stored += z.length;
      try {
        await part.sink.append(z);
      } catch (err) {
        this.report('recording_error', 'recording_write_failed', `cannot write recording part ${part.n} (${errorMessage(err)}); retrying`);
        if (part.sink.queuedBytes > this.opts.config.maxBacklogBytes) await this.dropPart('the store kept failing');
      }
      if (this.part && this.part.bytes >= this.opts.config.partBytes) await this.finishPart();
      if (!this.truncated && this.stored >= this.opts.config.maxBytes - RESERVE) this.truncate();
      return true;
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
      if (this.part) await this.dropPart(errorMessage(err));
      return false;
    }
  }

  private async openPart(): Promise<boolean> {
    if (performance.now() < this.openRetryAt) return false;
    const n = this.partsOpened + 1;
    const key = partKey(this.key, n);
    let sink: PartSink;
    try {
      sink = await this.opts.store.openPart(key, (code, message) => this.report('recording_error', code, message));
    } catch (err) {
      this.openRetryAt = performance.now() + OPEN_RETRY_MS;
      this.report('recording_error', 'recording_open_failed', `cannot create recording part ${key} (${errorMessage(err)}); output is kept in memory up to ${this.opts.config.maxBacklogBytes} bytes and retried`);
      return false;
    }
    this.partsOpened = n;
    const i = this.info;
    let header = headerLine({
      version: 2, width: this.partSize[0], height: this.partSize[1],
      timestamp: Math.floor(this.startedAt.getTime() / 1000),
      env: { TERM: i.term || 'xterm', ...(i.shell ? { SHELL: i.shell } : {}) },
      title: `${i.user}@${i.host}`,
      jmp: { session: i.sessionId, user: i.user, host: i.host, part: n },
    });
    if (this.partGap) {
      this.partGap = false;
      header += eventLine(formatTime(performance.now() - this.t0), 'm', 'recording_gap: the previous part could not be written completely; events may be missing here');
    }
    this.part = { n, gz: new SyncFlushGzip(this.opts.config.gzipLevel), sink, bytes: 0, header };
    return true;
  }

  /** Ends the current part: gzip trailer, complete. */
  private async finishPart(): Promise<void> {
    const part = this.part!;
    this.part = null;
    this.partSize = [this.cols, this.rows];
    try {
      const tail = await part.gz.end();
      part.bytes += tail.length;
      this.stored += tail.length;
      await part.sink.append(tail);
      await part.sink.complete();
    } catch (err) {
      this.lost = true;
      this.stored -= part.sink.queuedBytes;
      this.report('recording_error', 'recording_write_failed', `recording part ${part.n} could not be completed (${errorMessage(err)})`);
      await part.sink.abandon().catch(() => {});
    }
  }

  /** Gives up a part that cannot be written; the next flush begins a new one. */
  private async dropPart(why: string): Promise<void> {
    const part = this.part!;
    this.part = null;
    this.partSize = [this.cols, this.rows];
    this.lost = true;
    this.partGap = true;
    this.stored -= part.sink.queuedBytes;
    part.gz.destroy();
    await part.sink.abandon().catch(() => {});
    this.report('recording_gap', 'recording_part_abandoned', `recording part ${part.n} was given up (${why}); recording goes on in part ${part.n + 1}`);
  }

  private async finish(reason: string): Promise<RecordingResult> {
    this.closed = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const tailOut = this.outText.end();
    if (tailOut && !this.truncated) this.text('o', tailOut);
    if (this.opts.config.recordInput) {
      const tailIn = this.inText.end();
      if (tailIn && !this.truncated) this.text('i', tailIn);
    }
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    await this.running;
    this.openRetryAt = 0;
    // Flush what waits; a session with no events still gets a part with its header.
    for (let failures = 0; (this.lines.length || this.open || this.partsOpened === 0) && failures < 3;) {
      if (!(await this.flushOnce(this.partsOpened === 0))) { failures++; this.openRetryAt = 0; }
    }
    if (this.lines.length || this.open) {
      this.lost = true;
      this.report('recording_error', 'recording_lost', 'the end of the recording could not be stored');
    }
    if (this.part) await this.finishPart();
    return this.result(reason);
  }

  private result(reason: string): RecordingResult {
    return { uri: this.uri, parts: this.partsOpened, bytes: this.stored, truncated: this.truncated, complete: !this.lost, reason };
  }

  private report(type: NoticeType, code: string, message: string): void {
    const now = Date.now();
    const last = this.lastReport.get(code);
    if (last !== undefined && now - last < REPORT_EVERY_MS && type === 'recording_error') return;
    this.lastReport.set(code, now);
    const sessionId = this.info.sessionId;
    this.opts.log?.warn({ session: sessionId, code, uri: this.uri }, message);
    try {
      this.opts.onNotice?.({ type, code, sessionId, uri: this.uri, message });
    } catch { /* a failing callback must not break recording */ }
  }
}

function sane(n: number, fallback: number): number {
  return Number.isInteger(n) && n > 0 && n < 10_000 ? n : fallback;
}
