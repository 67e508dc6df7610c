// Each host's last snapshot ETag, so an agent's routine poll is answered 304
// without building the snapshot again: valid while the global policy version
// (bumped by every access-relevant write and key rotation) is unchanged and no
// grant the snapshot considered has started or ended since. Per process; a
// miss only costs the build it saves.
const MAX_HOSTS = 200_000;

interface Entry {
  version: string;
  etag: string;
  changesAtMs: number | null;
}

export class SnapshotEtags {
  private readonly entries = new Map<number, Entry>();

  /** The ETag the host's snapshot has now, if known without building it. */
  current(hostId: number, version: string, nowMs: number): string | undefined {
    const e = this.entries.get(hostId);
    if (!e || e.version !== version || (e.changesAtMs !== null && nowMs >= e.changesAtMs)) return undefined;
    return e.etag;
  }

  remember(hostId: number, version: string, etag: string, changesAt: Date | null): void {
    if (this.entries.size >= MAX_HOSTS && !this.entries.has(hostId)) this.entries.clear();
    this.entries.set(hostId, { version, etag, changesAtMs: changesAt ? changesAt.getTime() : null });
  }
}
