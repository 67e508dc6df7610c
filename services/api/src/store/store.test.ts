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
after(async () => {
  for (const [, s] of stores) await s.close();
});

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
    test('reserve: of many concurrent callers exactly limit get an attempt', async () => {
      const got = await Promise.all(Array.from({ length: 40 }, () => store.reserve('res:a', 5, 10_000)));
      assert.equal(got.filter((g) => g.ok).length, 5);
      assert.deepEqual(
        got
          .filter((g) => g.ok)
          .map((g) => g.count)
          .sort(),
        [1, 2, 3, 4, 5],
      );
      const refused = got.find((g) => !g.ok)!;
      assert.equal(refused.count, 5);
      assert.ok(refused.retryMs > 0 && refused.retryMs <= 10_000);
      assert.equal(await store.get('res:a'), '5', 'a refused attempt is not counted');
    });
    test('reserve: release gives one back, never below zero; the window ends with its ttl', async () => {
      await store.reserve('res:b', 2, 100);
      await store.reserve('res:b', 2, 100);
      assert.equal((await store.reserve('res:b', 2, 100)).ok, false);
      await store.release('res:b');
      assert.equal((await store.reserve('res:b', 2, 100)).ok, true);
      await store.release('res:none');
      assert.equal(await store.get('res:none'), null);
      await new Promise((r) => setTimeout(r, 150));
      assert.deepEqual((await store.reserve('res:b', 2, 100)).count, 1);
    });
    test('expire sets a new ttl on an existing key', async () => {
      await store.set('exp:a', 'v', 50);
      assert.equal(await store.expire('exp:a', 10_000), true);
      assert.equal(await store.expire('exp:none', 10_000), false);
      await new Promise((r) => setTimeout(r, 120));
      assert.equal(await store.get('exp:a'), 'v');
    });
    test('getMany and setMany', async () => {
      await store.setMany(
        [
          ['m:a', '1'],
          ['m:b', '2'],
        ],
        10_000,
      );
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
