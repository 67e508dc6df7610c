import { Redis } from 'ioredis';
import type { Store } from './store.js';

/** Fails fast instead of queueing while Redis is away: callers deny (fail closed). */
export class RedisStore implements Store {
  readonly client: Redis;

  constructor(url: string, prefix = 'jmp:') {
    this.client = new Redis(url, {
      keyPrefix: prefix,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.client.on('error', () => {}); // surfaced per command; the health check reports it
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const [[e1, n], [e2]] = (await this.client.multi().incr(key).pexpire(key, Math.ceil(ttlMs), 'NX').exec()) as [[Error | null, number], [Error | null, unknown]];
    if (e1 || e2) throw e1 ?? e2;
    return n;
  }

  async get(key: string): Promise<string | null> {
    return this.client.get(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async del(key: string): Promise<void> {
    await this.client.del(key);
  }

  async getMany(keys: string[]): Promise<Array<string | null>> {
    return keys.length ? this.client.mget(...keys) : [];
  }

  async setMany(entries: Array<[string, string]>, ttlMs: number): Promise<void> {
    if (!entries.length) return;
    const m = this.client.multi();
    for (const [k, v] of entries) m.set(k, v, 'PX', Math.max(1, Math.ceil(ttlMs)));
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
