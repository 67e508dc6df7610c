// Pulls the host's snapshot every interval (± jitter, so 10,000 hosts do not
// ask in step) with If-None-Match; keeps the last good one on any failure.
import type { Logger } from '@jmp/runtime';
import type { AgentApi } from '../api/client.js';
import { isApiDown } from '../api/client.js';
import type { ApiHealth } from '../api/health.js';
import type { PolicyStore } from './store.js';

export type SyncResult = 'updated' | 'unchanged' | 'failed' | 'not_enrolled' | 'rejected';

export interface PolicySyncOptions {
  store: PolicyStore;
  /** The api client and host id, or null while the host is not enrolled. */
  target: () => { api: AgentApi; hostId: number } | null;
  health: ApiHealth;
  intervalMs: number;
  jitterMs: number;
  log: Pick<Logger, 'warn' | 'info' | 'error' | 'debug'>;
  /** After every pull that reached jmp-api. */
  onSuccess?: (result: 'updated' | 'unchanged') => void;
  /** Ignore the ETag (a full pull). */
  force?: boolean;
}

export class PolicySync {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<SyncResult> | null = null;
  private stopped = true;

  constructor(private readonly o: PolicySyncOptions) {}

  /** One pull now (joins a pull in progress). */
  syncOnce(force = this.o.force ?? false): Promise<SyncResult> {
    this.running ??= this.pull(force).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pull(force: boolean): Promise<SyncResult> {
    const t = this.o.target();
    if (!t) return 'not_enrolled';
    let r: Awaited<ReturnType<AgentApi['main']['policy']>>;
    try {
      r = await t.api.main.policy(force ? undefined : this.o.store.etag);
    } catch (err) {
      if (isApiDown(err)) this.o.health.down((err as Error).message);
      else this.o.health.ok();
      this.o.log.warn({ err: (err as Error).message }, 'policy pull failed; keeping the last good snapshot');
      return 'failed';
    }
    this.o.health.ok();
    if ('unchanged' in r) {
      this.o.store.confirm(r.version);
      this.o.onSuccess?.('unchanged');
      return 'unchanged';
    }
    if (r.snapshot.host.id !== t.hostId) {
      this.o.log.error(
        { got: r.snapshot.host.id, want: t.hostId },
        'jmp-api sent the snapshot of another host; ignoring it',
      );
      return 'rejected';
    }
    this.o.store.accept(r.snapshot, r.etag, new Date(), r.version);
    this.o.log.info({ users: r.snapshot.users.length, etag: r.etag }, 'policy updated');
    this.o.onSuccess?.('updated');
    return 'updated';
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      void this.syncOnce().finally(() => this.schedule(tick));
    };
    tick();
  }

  private schedule(tick: () => void): void {
    if (this.stopped) return;
    const jitter = (Math.random() * 2 - 1) * this.o.jitterMs;
    this.timer = setTimeout(tick, Math.max(1000, this.o.intervalMs + jitter));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => {});
  }
}
