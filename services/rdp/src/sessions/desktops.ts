// The desktops of this instance: the per-person bound (opening and open),
// jmp-api's live registry (LiveSessions: a heartbeat names them every second;
// the answer names those an administrator ended), and the end of each.
import type { ApiClient } from '@jmp/contract';
import { LiveSessions } from '@jmp/contract/live-sessions';
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
  private readonly live: LiveSessions;

  constructor(
    api: ApiClient,
    instance: string,
    log: Logger,
    private readonly maxPerUser: number,
  ) {
    this.live = new LiveSessions(api, instance, log);
  }

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

  /** Live from now on; ended (within about 2 s) when an administrator terminates it. */
  add(d: Desktop): void {
    this.byId.set(d.id, d);
    this.live.add(d.id, (reason) => d.end('terminated', `ended by an administrator: ${reason}`));
  }

  remove(d: Desktop): void {
    this.byId.delete(d.id);
    this.live.remove(d.id);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): Desktop[] {
    return [...this.byId.values()];
  }

  /** Stops naming the desktops to jmp-api (shutting down). */
  stopHeartbeat(): void {
    this.live.stop();
  }
}
