import type { Store } from './store.js';

interface Entry {
  value: string;
  expiresAt: number;
}

export class MemoryStore implements Store {
  private readonly map = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  private live(key: string): Entry | undefined {
    const e = this.map.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.live(key)) return false;
    this.map.set(key, { value, expiresAt: this.now() + ttlMs });
    return true;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const e = this.live(key);
    const next = e ? Number(e.value) + 1 : 1;
    this.map.set(key, { value: String(next), expiresAt: e ? e.expiresAt : this.now() + ttlMs });
    return next;
  }

  // No await between the read and the write: atomic on the one event loop.
  async reserve(key: string, limit: number, ttlMs: number): Promise<{ ok: boolean; count: number; retryMs: number }> {
    const e = this.live(key);
    const count = e ? Number(e.value) : 0;
    if (count >= limit) return { ok: false, count, retryMs: e ? e.expiresAt - this.now() : ttlMs };
    const expiresAt = e ? e.expiresAt : this.now() + ttlMs;
    this.map.set(key, { value: String(count + 1), expiresAt });
    return { ok: true, count: count + 1, retryMs: expiresAt - this.now() };
  }

  async release(key: string): Promise<void> {
    const e = this.live(key);
    if (e && Number(e.value) > 0) e.value = String(Number(e.value) - 1);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const e = this.live(key);
    if (e) e.expiresAt = this.now() + ttlMs;
    return !!e;
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.map.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  async del(key: string): Promise<void> {
    this.map.delete(key);
  }

  async getMany(keys: string[]): Promise<Array<string | null>> {
    return keys.map((k) => this.live(k)?.value ?? null);
  }

  async setMany(entries: Array<[string, string]>, ttlMs: number): Promise<void> {
    for (const [k, v] of entries) this.map.set(k, { value: v, expiresAt: this.now() + ttlMs });
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.map.clear();
  }

  private sweep(): void {
    const t = this.now();
    for (const [k, e] of this.map) if (e.expiresAt <= t) this.map.delete(k);
  }
}
