import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { Store } from './store.js';

export type { Store };
export { MemoryStore, RedisStore };

export function createStore(redisUrl: string | undefined, prefix?: string): Store {
  return redisUrl ? new RedisStore(redisUrl, prefix) : new MemoryStore();
}
