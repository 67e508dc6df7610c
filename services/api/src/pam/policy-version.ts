// The version (snapshot ETag) of each host's policy, sent with every PAM
// answer: an agent whose snapshot is older pulls at once, so a revoked right
// does not linger in its cache until the next scheduled pull. Computed as
// GET /v1/agents/policy computes it, and cached a moment per host, so a burst
// of questions (auth, account, session) builds the snapshot once.
import type { Ctx } from '../context.js';
import { buildSnapshot, snapshotEtag } from '../agents/snapshot.js';
import { isDbUnavailable } from '../http/db-health.js';

const TTL_MS = 2000;
const MAX_HOSTS = 20_000;

export class PolicyVersions {
  private readonly cache = new Map<number, { etag: string | null; at: number }>();
  private readonly building = new Map<number, Promise<string | null>>();

  constructor(private readonly ctx: Ctx, private readonly nowMs: () => number = Date.now) {}

  /** The host's snapshot ETag, or null when it cannot be built now (the answer then goes without it). */
  async of(hostId: number): Promise<string | null> {
    const hit = this.cache.get(hostId);
    if (hit && this.nowMs() - hit.at < TTL_MS) return hit.etag;
    const pending = this.building.get(hostId);
    if (pending) return pending;
    const p = this.build(hostId).finally(() => this.building.delete(hostId));
    this.building.set(hostId, p);
    return p;
  }

  /** Forget a host's version (its rights just changed through this instance). */
  forget(hostId: number): void {
    this.cache.delete(hostId);
  }

  private async build(hostId: number): Promise<string | null> {
    let etag: string | null = null;
    try {
      const snap = await buildSnapshot(this.ctx.db, hostId, this.ctx.ticketKeys, this.ctx.config.noSnapshotPolicy, this.ctx.now());
      etag = snap ? snapshotEtag(snap) : null;
    } catch (err) {
      // A database outage is answered (503) and logged by the decision itself.
      if (!isDbUnavailable(err)) this.ctx.log.warn({ hostId, err: (err as Error).message }, 'cannot compute the policy version for a PAM answer');
    }
    if (this.cache.size >= MAX_HOSTS) this.prune();
    this.cache.set(hostId, { etag, at: this.nowMs() });
    return etag;
  }

  private prune(): void {
    const now = this.nowMs();
    for (const [id, e] of this.cache) if (now - e.at >= TTL_MS) this.cache.delete(id);
    if (this.cache.size >= MAX_HOSTS) this.cache.clear();
  }
}
