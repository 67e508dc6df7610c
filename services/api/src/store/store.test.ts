// The same behaviour from both stores, against the machine's real Redis.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { MemoryStore } from './memory.js';
import { RedisStore } from './redis.js';
import type { Store } from './store.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const stores: Array<[string, Store]> = [
  ['memory', new MemoryStore()],
  ['redis', new RedisStore(redisUrl, `jmp-test:${randomUUID()}:`)],
];
after(async () => { for (const [, s] of stores) await s.close(); });

for (const [name, store] of stores) {
  describe(`${name} store`, () => {
    test('setIfAbsent is single-use', async () => {
      assert.equal(await store.setIfAbsent('jti:1', 'x', 5000), true);
      assert.equal(await store.setIfAbsent('jti:1', 'y', 5000), false);
      assert.equal(await store.get('jti:1'), 'x');
    });
    test('values expire', async () => {
      await store.set('short', 'v', 50);
      assert.equal(await store.get('short'), 'v');
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await store.get('short'), null);
      assert.equal(await store.setIfAbsent('short', 'again', 1000), true);
    });
    test('increment counts and keeps its first ttl', async () => {
      assert.equal(await store.increment('fails', 100), 1);
      assert.equal(await store.increment('fails', 100_000), 2);
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(await store.increment('fails', 100), 1);
    });
    test('getMany and setMany', async () => {
      await store.setMany([['m:a', '1'], ['m:b', '2']], 10_000);
      assert.deepEqual(await store.getMany(['m:a', 'm:x', 'm:b']), ['1', null, '2']);
      assert.deepEqual(await store.getMany([]), []);
    });
    test('del removes', async () => {
      await store.set('k', 'v', 10_000);
      await store.del('k');
      assert.equal(await store.get('k'), null);
    });
  });
}
