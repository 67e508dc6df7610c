// hosts.last_seen_at for agent liveness, written in one statement every few
// seconds for all hosts heard from, not one UPDATE per poll (10,000 hosts
// polling every 30 s would be 333 writes a second).
import type { Db } from '../db/knex.js';
import type { Logger } from '@jmp/runtime';

export class LastSeen {
  private pending = new Set<number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Pick<Logger, 'warn'>,
    everyMs = 5000,
  ) {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  seen(hostId: number): void {
    this.pending.add(hostId);
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const ids = [...this.pending];
    this.pending = new Set();
    try {
      await this.db('hosts').whereIn('id', ids).update({ last_seen_at: this.db.fn.now() });
    } catch (err) {
      this.log.warn({ err, hosts: ids.length }, 'could not record when agents were last seen');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
