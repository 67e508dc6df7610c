// The output of a target session for whoever watches it in the console: off
// until jmp-api's heartbeat says someone watches, then sent every 50 ms in
// one request (bounded: beyond 1 MiB waiting, output is dropped for the
// watcher, never for the recording or the person). The person is told once
// per watch in one line when jmp-api says so (JMP_WATCH_NOTICE). Output only.
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { SessionRecording } from '@jmp/recording';

const FLUSH_MS = 50;
const MAX_PENDING = 1024 * 1024;
const MAX_CHUNK = 64 * 1024;
export const WATCH_NOTICE = '\r\n[jmp] an administrator is now watching this session (read-only)\r\n';

export class WatchTap {
  private on = false;
  private pending: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;

  constructor(
    private readonly id: string,
    private readonly api: ApiClient,
    private readonly log: Pick<Logger, 'warn'>,
    /** Writes a line to the person (the notice). */
    private readonly tell: (text: string) => void,
  ) {}

  /** From each heartbeat: watched now or not. */
  set(watched: { notice: boolean } | null): void {
    if (watched && !this.on) {
      this.on = true;
      if (watched.notice) this.tell(WATCH_NOTICE);
      this.timer = setInterval(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    } else if (!watched && this.on) this.stop();
  }

  push(buf: Uint8Array): void {
    if (!this.on || this.size + buf.length > MAX_PENDING) return;
    this.pending.push(Buffer.from(buf));
    this.size += buf.length;
  }

  stop(): void {
    this.on = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.pending = [];
    this.size = 0;
  }

  private async flush(): Promise<void> {
    if (this.sending || !this.pending.length) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.size = 0;
    const chunks: string[] = [];
    for (let i = 0; i < all.length && chunks.length < 64; i += MAX_CHUNK)
      chunks.push(all.subarray(i, i + MAX_CHUNK).toString('base64'));
    this.sending = true;
    try {
      await this.api.liveOutput(this.id, chunks);
    } catch (err) {
      this.log.warn({ session: this.id, err: (err as Error).message }, 'could not send output to its watcher');
    } finally {
      this.sending = false;
    }
  }
}

/**
 * The recording, with its output also handed to the tap. A plain forwarding
 * object, not a Proxy: it is called for every chunk of every session, and a
 * Proxy trap would look each method up and bind it anew on every call.
 */
export function tapped(rec: SessionRecording, tap: WatchTap): SessionRecording {
  return {
    uri: rec.uri,
    output(data: Uint8Array): void {
      tap.push(data);
      rec.output(data);
    },
    input: (data) => rec.input(data),
    resize: (cols, rows) => rec.resize(cols, rows),
    marker: (label) => rec.marker(label),
    get backlogBytes() {
      return rec.backlogBytes;
    },
    close: (reason) => rec.close(reason),
  };
}
