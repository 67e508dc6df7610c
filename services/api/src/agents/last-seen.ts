// hosts.last_seen_at for agent liveness, written in one statement every few
// seconds for all hosts heard from, not one UPDATE per poll (10,000 hosts
// polling every 30 s would be 333 writes a second). The agent's version (its
// user-agent) is written only when it differs from the one this process last
// wrote, so it costs one statement per agent start, not per poll.
import type { Db } from '../db/knex.js';
import type { Logger } from '@jmp/runtime';

export class LastSeen {
  private pending = new Set<number>();
  private versions = new Map<number, string>();
  private written = new Map<number, string>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly db: Db,
    private readonly log: Pick<Logger, 'warn'>,
    everyMs = 5000,
  ) {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
  }

  seen(hostId: number, version?: string): void {
    this.pending.add(hostId);
    if (version && this.written.get(hostId) !== version) this.versions.set(hostId, version);
  }

  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const ids = [...this.pending];
    this.pending = new Set();
    const versions = [...this.versions];
    this.versions = new Map();
    try {
      await this.db('hosts').whereIn('id', ids).update({ last_seen_at: this.db.fn.now() });
      for (const [id, version] of versions) {
        await this.db('hosts')
          .where({ id })
          .update({ agent_status: this.db.raw("agent_status || jsonb_build_object('version', ?::text)", [version]) });
        this.written.set(id, version);
      }
    } catch (err) {
      this.log.warn({ err, hosts: ids.length }, 'could not record when agents were last seen');
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
