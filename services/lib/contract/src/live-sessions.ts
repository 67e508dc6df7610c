// One instance's live sessions (jmp-ssh targets, jmp-sftp targets, jmp-rdp
// desktops). Every second they are named to jmp-api in one request, which
// keeps them live (listed, counted against the per-person limit, hop tickets
// allowed); sessions an administrator ended are closed here, so termination
// takes effect within about a second. The answer also names the sessions
// someone watches; their taps start or stop sending output.
import type { ApiClient } from './api-client.js';

/** Output of a session for a watcher, switched by each heartbeat. */
export interface SessionTap {
  set(watched: { notice: boolean } | null): void;
  stop(): void;
}

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export class LiveSessions {
  private readonly sessions = new Map<string, (reason: string) => void>();
  private readonly taps = new Map<string, SessionTap>();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly api: Pick<ApiClient, 'heartbeatWatch'>,
    private readonly instance: string,
    private readonly log: Log,
    private readonly intervalMs = 1000,
  ) {}

  /** `end` closes the session when an administrator ended it (with the administrator's reason). */
  add(id: string, end: (reason: string) => void, tap?: SessionTap): void {
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

  /** Stops the heartbeat (shutting down); the sessions stay listed here. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
