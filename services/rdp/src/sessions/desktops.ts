// The desktops of this instance: the per-person bound (opening and open),
// jmp-api's live registry (a heartbeat names them every second; the answer
// names those an administrator ended), and the end of each.
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';

export interface Desktop {
  id: string;
  user: string;
  /** Ends the desktop: the page gets `message`, the session row `reason`. */
  end(reason: string, message: string): void;
}

export class Desktops {
  private readonly byId = new Map<string, Desktop>();
  private readonly perUser = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly api: ApiClient,
    private readonly instance: string,
    private readonly log: Logger,
    private readonly maxPerUser: number,
  ) {}

  /** Takes one of the person's places on this instance; false when all are taken (opening ones count). */
  reserve(user: string): boolean {
    const n = this.perUser.get(user) ?? 0;
    if (n >= this.maxPerUser) return false;
    this.perUser.set(user, n + 1);
    return true;
  }

  release(user: string): void {
    const n = (this.perUser.get(user) ?? 1) - 1;
    if (n <= 0) this.perUser.delete(user);
    else this.perUser.set(user, n);
  }

  add(d: Desktop): void {
    this.byId.set(d.id, d);
  }

  remove(d: Desktop): void {
    this.byId.delete(d.id);
  }

  get size(): number {
    return this.byId.size;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  all(): Desktop[] {
    return [...this.byId.values()];
  }

  /** Every second: name the live desktops; end those jmp-api says were terminated (within 2 s). */
  startHeartbeat(intervalMs = 1000): void {
    const beat = async () => {
      try {
        const end = await this.api.heartbeat(this.instance, this.ids());
        for (const e of end) this.byId.get(e.id)?.end('terminated', `ended by an administrator: ${e.reason}`);
      } catch (err) {
        this.log.warn({ err }, 'heartbeat to jmp-api failed');
      } finally {
        if (this.timer) this.timer = setTimeout(() => void beat(), intervalMs);
      }
    };
    this.timer = setTimeout(() => void beat(), intervalMs);
  }

  stopHeartbeat(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
