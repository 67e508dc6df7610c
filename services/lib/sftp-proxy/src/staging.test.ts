// The staging area against s3rver (an S3-compatible server in Node): per-person
// prefixes, directories as prefixes, rename, and the lifetime (expired files
// are neither listed nor opened, and the sweep deletes them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { createS3Client, S3Objects } from '@jmp/recording';
import { Staging } from './staging.js';
import { STATUS } from './status.js';

process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';

test('staging in S3: per-person areas, streamed multipart upload, rename, rmdir, lifetime and sweep', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-staging-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'b' }],
  });
  const { port } = await server.run();
  t.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const objects = new S3Objects(
    createS3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true }),
    'b',
    5 * 1024 * 1024,
  );
  const staging = new Staging({ objects, prefix: 'staging', lifetimeMs: 3600_000 });

  // 11 MiB in 64 KiB writes: two pieces of 5 MiB and a last one.
  const up = staging.upload('alice', 'd/f.bin');
  const body = Buffer.alloc(11 * 1024 * 1024, 7);
  for (let o = 0; o < body.length; o += 65536) await up.write(body.subarray(o, o + 65536));
  await up.finish();
  assert.deepEqual(await objects.head('staging/alice/d/f.bin').then((o) => o?.size), body.length);
  assert.deepEqual(await staging.read('alice', 'd/f.bin', 5, 9), Buffer.alloc(4, 7));

  assert.equal((await staging.stat('alice', 'd'))?.kind, 'dir');
  assert.deepEqual(
    (await staging.list('alice', '')).map((e) => [e.name, e.kind]),
    [['d', 'dir']],
  );
  assert.deepEqual(await staging.list('bob', ''), [], "bob does not see alice's files");
  assert.equal(await staging.stat('bob', 'd/f.bin'), null);

  assert.equal((await staging.rename('alice', 'd/f.bin', 'd/g.bin')).code, STATUS.OK);
  assert.equal(await staging.stat('alice', 'd/f.bin'), null);
  assert.equal((await staging.rmdir('alice', 'd')).code, STATUS.FAILURE, 'not empty');
  assert.equal((await staging.mkdir('alice', 'e')).code, STATUS.OK);
  assert.equal((await staging.stat('alice', 'e'))?.kind, 'dir');
  assert.equal((await staging.rmdir('alice', 'e')).code, STATUS.OK);
  assert.equal(await staging.stat('alice', 'e'), null);

  // An aborted upload leaves nothing.
  const cut = staging.upload('alice', 'cut.bin');
  await cut.write(Buffer.alloc(6 * 1024 * 1024));
  await cut.abort();
  assert.equal(await staging.stat('alice', 'cut.bin'), null);

  // The same bucket with a lifetime already past: nothing listed or found, and the sweep deletes it.
  await new Promise((r) => setTimeout(r, 20));
  const expired = new Staging({ objects, prefix: 'staging/', lifetimeMs: 1 });
  assert.deepEqual(await expired.list('alice', 'd'), []);
  assert.equal(await expired.stat('alice', 'd/g.bin'), null);
  assert.equal((await expired.remove('alice', 'd/g.bin')).code, STATUS.NO_SUCH_FILE);
  assert.equal(await expired.sweep(), 1);
  assert.equal(await objects.head('staging/alice/d/g.bin'), null);
  assert.equal(await staging.sweep(), 0);
});
