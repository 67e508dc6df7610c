// Memory-only degradation. When a write fails (a full disk or inode table,
// a quota, a read-only file system, or any other I/O error) the agent keeps
// working from memory: the store that failed is marked dirty, the failure is
// logged once, and `retry()` (called on a timer) writes the dirty stores
// again. When all of them are written the agent has recovered.
import type { Logger } from '@jmp/runtime';

/** Errors that mean "no room" or "not writable" rather than a bug. */
export const DISK_FULL_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? 'EUNKNOWN';
}

export interface DiskChange {
  degraded: boolean;
  /** The store whose write failed (degraded) or that was the last to be flushed (recovered). */
  store: string;
  code?: string;
}

export class DiskHealth {
  private readonly dirty = new Map<string, () => void>();
  private degradedSince: Date | null = null;
  private lastCode: string | undefined;

  constructor(
    private readonly log: Pick<Logger, 'warn' | 'info' | 'error'>,
    private readonly onChange: (c: DiskChange) => void = () => {},
  ) {}

  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  get since(): Date | null {
    return this.degradedSince;
  }

  get code(): string | undefined {
    return this.lastCode;
  }

  /**
   * Runs `write`. On success returns true. On failure remembers `flush` (which
   * must write the store's whole in-memory state; default: `write` itself, for
   * stores written whole every time) for retry() and returns false; never throws.
   */
  attempt(store: string, write: () => void, flush?: () => void): boolean {
    try {
      write();
      if (!flush && this.dirty.delete(store) && this.dirty.size === 0) this.recovered();
      return true;
    } catch (err) {
      this.dirty.set(store, flush ?? write);
      const code = errnoOf(err);
      this.lastCode = code;
      if (!this.degradedSince) {
        this.degradedSince = new Date();
        const full = DISK_FULL_CODES.has(code);
        this.log.warn(
          { store, code, err: full ? undefined : err },
          `cannot write ${store} (${code}): ${full ? 'disk full or read-only' : 'I/O error'}; continuing from memory until writes work again`,
        );
        this.onChange({ degraded: true, store, code });
      }
      return false;
    }
  }

  /** Writes every dirty store again; recovers when all succeed. */
  retry(): void {
    for (const [store, flush] of [...this.dirty]) {
      try {
        flush();
        this.dirty.delete(store);
      } catch (err) {
        this.lastCode = errnoOf(err);
        return;
      }
    }
    if (this.dirty.size === 0) this.recovered();
  }

  private recovered(): void {
    if (this.degradedSince) {
      const since = this.degradedSince;
      this.degradedSince = null;
      this.log.info({ since: since.toISOString() }, 'writes work again; every store is back on disk');
      this.onChange({ degraded: false, store: 'all' });
    }
  }
}
