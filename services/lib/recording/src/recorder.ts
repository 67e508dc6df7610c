// The recorder of one target session: a small orchestrator. The proxy hands it
// the two byte streams and the resizes; the recorder asks the limits
// (limits.ts) whether to keep them, puts them in the event buffer
// (event-buffer.ts) and, at most `flushMs` after an event arrived (or as soon
// as `flushBytes` of text waits), hands a batch to the part writer
// (part-writer.ts), which gzips it with a sync flush into the current part and
// makes it durable before the next flush starts. The calls the proxy makes are
// synchronous and cheap: no syscalls and no awaiting per chunk; all I/O
// happens in the batched flush.
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
import { headerLine, Utf8Stream, type EventCode } from './asciicast.js';
import type { RecordingConfig } from './config.js';
import { EventBuffer, withoutNul } from './event-buffer.js';
import { gapMarker, RecordingLimits } from './limits.js';
import { PartWriter } from './part-writer.js';
import { errorMessage, sessionKey, type RecordingStore } from './store.js';

export { withoutNul } from './event-buffer.js';

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
  config: Pick<
    RecordingConfig,
    'recordInput' | 'flushMs' | 'flushBytes' | 'partBytes' | 'maxBytes' | 'maxBacklogBytes' | 'gzipLevel'
  >;
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

/** Largest text compressed in one go (characters). */
const MAX_BATCH = 4 * 1024 * 1024;
const MAX_LABEL = 4096;
const REPORT_EVERY_MS = 30_000;

export class SessionRecorder implements SessionRecording {
  readonly uri: string;
  private readonly t0: number;
  private readonly startedAt: Date;
  private readonly outText = new Utf8Stream();
  private readonly inText = new Utf8Stream();
  private readonly buffer = new EventBuffer();
  private readonly limits: RecordingLimits;
  private readonly writer: PartWriter;
  private cols: number;
  private rows: number;

  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  private closing: Promise<RecordingResult> | null = null;
  /** Output was dropped or the end not stored (the writer keeps count of the parts it lost). */
  private lost = false;
  private readonly lastReport = new Map<string, number>();

  constructor(
    private readonly info: SessionInfo,
    private readonly opts: RecorderOptions,
  ) {
    const s = info.startedAt;
    this.startedAt = s instanceof Date && !Number.isNaN(s.getTime()) ? s : new Date();
    this.t0 = performance.now() - (Date.now() - this.startedAt.getTime());
    const key = sessionKey(String(info.sessionId), this.startedAt);
    this.uri = opts.store.sessionUri(key);
    this.cols = sane(info.width, 80);
    this.rows = sane(info.height, 24);
    const c = opts.config;
    this.limits = new RecordingLimits(c);
    this.writer = new PartWriter({
      store: opts.store,
      sessionKey: key,
      gzipLevel: c.gzipLevel,
      partBytes: c.partBytes,
      maxQueuedBytes: c.maxBacklogBytes,
      header: (n, size) => this.header(n, size),
      size: () => [this.cols, this.rows],
      clock: () => this.elapsed(),
      report: (type, code, message) => this.report(type, code, message),
    });
  }

  get backlogBytes(): number {
    return this.buffer.pending + this.writer.inflight + this.writer.queuedBytes;
  }

  output(data: Uint8Array): void {
    if (this.closed || this.limits.truncated) return;
    try {
      const s = this.outText.write(withoutNul(data));
      if (s) this.text('o', s);
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
    }
  }

  input(data: Uint8Array): void {
    if (this.closed || this.limits.truncated || !this.opts.config.recordInput) return;
    try {
      const s = this.inText.write(data);
      if (s) this.text('i', s);
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
    }
  }

  resize(cols: number, rows: number): void {
    if (this.closed || this.limits.truncated) return;
    try {
      this.cols = sane(cols, this.cols);
      this.rows = sane(rows, this.rows);
      this.event('r', `${this.cols}x${this.rows}`);
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
    }
  }

  marker(label: string): void {
    if (this.closed || !this.limits.allowMarker()) return;
    try {
      this.event('m', String(label).slice(0, MAX_LABEL));
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
    }
  }

  close(reason: string): Promise<RecordingResult> {
    this.closing ??= this.finish(reason).catch((err: unknown) => {
      this.lost = true;
      this.report('recording_error', 'recording_internal', errorMessage(err));
      return this.result(reason);
    });
    return this.closing;
  }

  // ---- events: the limits decide, the buffer keeps ---------------------------

  private text(code: 'o' | 'i', s: string): void {
    const a = this.limits.admit(s.length, this.backlogBytes);
    if (!a.keep) {
      if (a.report) this.report('recording_gap', 'recording_backlog_full', a.report);
      return;
    }
    if (a.gap) {
      this.lost = true;
      this.event('m', gapMarker(a.gap));
    }
    if (this.limits.overCap(this.writer.stored + this.writer.inflight + this.buffer.pending, s.length)) {
      this.truncate();
      return;
    }
    this.buffer.text(code, s, this.elapsed());
    this.schedule();
  }

  private event(code: EventCode, data: string): void {
    this.buffer.event(code, data, this.elapsed());
    this.schedule();
  }

  private truncate(): void {
    const t = this.limits.truncate();
    if (!t) return;
    this.event('m', t.marker);
    this.report('recording_truncated', 'recording_truncated', t.notice);
    this.kick();
  }

  // ---- flushing: when the writer gets a batch --------------------------------

  private schedule(): void {
    if (this.buffer.pending >= this.opts.config.flushBytes) this.kick();
    else if (!this.timer) this.armTimer();
  }

  private armTimer(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.opts.config.flushMs);
    this.timer.unref();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.closed) return;
      if (this.buffer.pending >= this.opts.config.flushBytes) this.kick();
      else if (this.buffer.hasEvents) this.armTimer();
    });
  }

  private async drain(): Promise<void> {
    do {
      if (!(await this.flushOnce(false))) break;
    } while (this.buffer.pending >= this.opts.config.flushBytes && !this.closed);
  }

  /** Stores waiting events (up to MAX_BATCH characters) in the current part; false when nothing could be done. */
  private async flushOnce(force: boolean): Promise<boolean> {
    try {
      this.buffer.seal();
      if (!this.buffer.hasLines && !force) return false;
      if (!(await this.writer.ready())) return false;
      const batch = this.buffer.take(MAX_BATCH);
      await this.writer.write(batch.text, batch.size);
      if (!this.limits.truncated && this.limits.reached(this.writer.stored)) this.truncate();
      return true;
    } catch (err) {
      this.report('recording_error', 'recording_internal', errorMessage(err));
      await this.writer.drop(errorMessage(err));
      return false;
    }
  }

  private async finish(reason: string): Promise<RecordingResult> {
    this.closed = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const tailOut = this.outText.end();
    if (tailOut && !this.limits.truncated) this.text('o', tailOut);
    if (this.opts.config.recordInput) {
      const tailIn = this.inText.end();
      if (tailIn && !this.limits.truncated) this.text('i', tailIn);
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.running;
    this.writer.retryNow();
    // Flush what waits; a session with no events still gets a part with its header.
    for (let failures = 0; (this.buffer.hasEvents || this.writer.parts === 0) && failures < 3;) {
      if (!(await this.flushOnce(this.writer.parts === 0))) {
        failures++;
        this.writer.retryNow();
      }
    }
    if (this.buffer.hasEvents) {
      this.lost = true;
      this.report('recording_error', 'recording_lost', 'the end of the recording could not be stored');
    }
    await this.writer.finish();
    return this.result(reason);
  }

  // ---- helpers -------------------------------------------------------------

  private header(n: number, [width, height]: readonly [number, number]): string {
    const i = this.info;
    return headerLine({
      version: 2,
      width,
      height,
      timestamp: Math.floor(this.startedAt.getTime() / 1000),
      env: { TERM: i.term || 'xterm', ...(i.shell ? { SHELL: i.shell } : {}) },
      title: `${i.user}@${i.host}`,
      jmp: { session: i.sessionId, user: i.user, host: i.host, part: n },
    });
  }

  /** Milliseconds since the session start: the time of an event. */
  private elapsed(): number {
    return performance.now() - this.t0;
  }

  private result(reason: string): RecordingResult {
    return {
      uri: this.uri,
      parts: this.writer.parts,
      bytes: this.writer.stored,
      truncated: this.limits.truncated,
      complete: !(this.lost || this.writer.lost),
      reason,
    };
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
    } catch {
      /* a failing callback must not break recording */
    }
  }
}

function sane(n: number, fallback: number): number {
  return Number.isInteger(n) && n > 0 && n < 10_000 ? n : fallback;
}
