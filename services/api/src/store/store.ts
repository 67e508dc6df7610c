// Shared short-lived state: single-use ticket ids, login failure counters,
// caches. Redis in production; an in-process map when REDIS_URL is unset
// (only correct with a single jmp-api).
export interface Store {
  /** Sets key only if absent; true when this call set it (SET NX PX). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Increments a counter, starting its ttl when it is created; returns the new value. */
  increment(key: string, ttlMs: number): Promise<number>;
  /**
   * Takes one of `limit` attempts in a window, atomically (one Redis script):
   * counts the attempt and starts the window's ttl when it is the first; when
   * all are taken it counts nothing and answers ok=false. `retryMs`: how long
   * the window still runs. Concurrent callers can never take more than `limit`.
   */
  reserve(key: string, limit: number, ttlMs: number): Promise<{ ok: boolean; count: number; retryMs: number }>;
  /** Gives back an attempt taken with reserve (never below zero; the ttl stays). */
  release(key: string): Promise<void>;
  /** Sets the ttl of an existing key (false when it is absent). */
  expire(key: string, ttlMs: number): Promise<boolean>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  /** Values of many keys in one round trip (null where absent). */
  getMany(keys: string[]): Promise<Array<string | null>>;
  /** Sets many keys with one ttl in one round trip. */
  setMany(entries: Array<[string, string]>, ttlMs: number): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs a store call; a failure becomes a `store_unavailable` error that the
 * HTTP layer answers with 503, so a Redis outage denies (a lockout or a
 * single-use ticket is never skipped) and says why.
 */
export async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw Object.assign(new Error(`store unavailable: ${(err as Error).message}`), { code: 'store_unavailable' });
  }
}
