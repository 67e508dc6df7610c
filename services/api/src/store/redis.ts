import { Redis } from 'ioredis';
import type { Store } from './store.js';
import { parseRedisUrl, reconnectOnReadOnly, WAIT_TIMEOUT_MS } from './redis-connection.js';

// KEYS[1] counter; ARGV[1] limit, ARGV[2] ttl ms. Returns {ok, count, pttl}.
const RESERVE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return {0, n, redis.call('PTTL', KEYS[1])} end
n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, n, redis.call('PTTL', KEYS[1])}`;
const RELEASE = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0`;

type Scripts = {
  jmpReserve(key: string, limit: number, ttlMs: number): Promise<[number, number, number]>;
  jmpRelease(key: string): Promise<number>;
};

/** Fails fast instead of queueing while Redis is away: callers deny (fail closed). */
export class RedisStore implements Store {
  readonly client: Redis;

  /** Replicas that must hold a single-use mark before it counts (redis-connection.ts). */
  private readonly waitReplicas: number;

  constructor(url: string, prefix = 'jmp:') {
    const conn = parseRedisUrl(url);
    this.waitReplicas = conn.waitReplicas;
    const options = {
      ...conn.options,
      reconnectOnError: reconnectOnReadOnly,
      keyPrefix: prefix,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      lazyConnect: false,
      retryStrategy: (times: number) => Math.min(times * 200, 2000),
    };
    this.client = conn.url ? new Redis(conn.url, options) : new Redis(options);
    this.client.on('error', () => {}); // surfaced per command; the health check reports it
    this.client.defineCommand('jmpReserve', { numberOfKeys: 1, lua: RESERVE });
    this.client.defineCommand('jmpRelease', { numberOfKeys: 1, lua: RELEASE });
  }

  private get scripts(): Scripts {
    return this.client as unknown as Scripts;
  }

  async reserve(key: string, limit: number, ttlMs: number): Promise<{ ok: boolean; count: number; retryMs: number }> {
    const [ok, count, pttl] = await this.scripts.jmpReserve(key, limit, Math.max(1, Math.ceil(ttlMs)));
    return { ok: ok === 1, count, retryMs: pttl > 0 ? pttl : ttlMs };
  }

  async release(key: string): Promise<void> {
    await this.scripts.jmpRelease(key);
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return (await this.client.pexpire(key, Math.max(1, Math.ceil(ttlMs)))) === 1;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const first = (await this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    // Async replication: the mark counts once replicas have it, or a failover could forget it (fail closed).
    if (first && this.waitReplicas > 0) {
      const acked = await this.client.wait(this.waitReplicas, WAIT_TIMEOUT_MS);
      if (acked < this.waitReplicas)
        throw new Error(`redis: ${acked} of ${this.waitReplicas} replicas acknowledged a single-use mark`);
    }
    return first;
  }

  async increment(key: string, ttlMs: number): Promise<number> {
    const [[e1, n], [e2]] = (await this.client.multi().incr(key).pexpire(key, Math.ceil(ttlMs), 'NX').exec()) as [
      [Error | null, number],
      [Error | null, unknown],
    ];
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
