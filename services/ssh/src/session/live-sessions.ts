// This instance's live target sessions. Every second it names them to jmp-api
// (one request for all); sessions an administrator ended are closed here, so
// termination takes effect within about a second. The answer also names the
// sessions someone watches; their taps start or stop sending output.
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { WatchTap } from './watch-tap.js';

export class LiveSessions {
  private readonly sessions = new Map<string, (reason: string) => void>();
  private readonly taps = new Map<string, WatchTap>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly api: ApiClient,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  add(id: string, end: (reason: string) => void, tap?: WatchTap): void {
    this.sessions.set(id, end);
    if (tap) this.taps.set(id, tap);
    if (!this.timer) {
      this.timer = setInterval(() => void this.beat(), this.intervalMs);
      this.timer.unref();
    }
  }

  remove(id: string): void {
    this.sessions.delete(id);
    this.taps.get(id)?.stop();
    this.taps.delete(id);
    if (this.sessions.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  private async beat(): Promise<void> {
    if (this.busy || this.sessions.size === 0) return;
    this.busy = true;
    try {
      const { end, watched } = await this.api.heartbeatWatch(this.instance, [...this.sessions.keys()]);
      const watching = new Map(watched.map((w) => [w.id, w]));
      for (const [id, tap] of this.taps) tap.set(watching.get(id) ?? null);
      for (const { id, reason } of end) {
        this.log.info({ session: id, reason }, 'session ended by an administrator');
        this.sessions.get(id)?.(reason);
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat to jmp-api failed');
    } finally {
      this.busy = false;
    }
  }
}
