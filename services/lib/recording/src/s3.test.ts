// The S3 store against s3rver (an S3-compatible server in Node) as the real peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import zlib from 'node:zlib';
import { createRecordings, type RecordingConfig, type RecordingNotice } from './index.js';
import { joined, noise, readAll, sleep, tempDir } from '../test/testing.js';

process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
const MiB = 1024 * 1024;
const startedAt = new Date('2025-03-04T05:06:07.000Z');
const info = (sessionId: string) => ({
  sessionId,
  user: 'alice',
  host: 'web-01',
  width: 80,
  height: 24,
  term: 'xterm',
  startedAt,
});

async function s3rver(t: { after(f: () => Promise<void>): void }, dir: string, port = 0) {
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: 'rec' }],
  });
  const addr = await server.run();
  let stopped = false;
  const stop = async () => {
    if (!stopped) {
      stopped = true;
      await server.close();
    }
  };
  t.after(stop);
  return { port: addr.port, endpoint: `http://127.0.0.1:${addr.port}`, stop };
}

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

function setup(endpoint: string, spoolDir: string, over: Partial<RecordingConfig> = {}) {
  const notices: RecordingNotice[] = [];
  const s3 = client(endpoint);
  const r = createRecordings(
    {
      s3Bucket: 'rec',
      s3Prefix: 'recordings',
      s3Endpoint: endpoint,
      s3ForcePathStyle: true,
      spoolDir,
      flushMs: 50,
      ...over,
    },
    { s3Client: s3, onNotice: (n) => notices.push(n) },
  );
  return { r, s3, notices };
}

const files = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

test('a session is uploaded as multipart and reads back identically; the spool is emptied', async (t) => {
  const dir = await tempDir(t);
  const { endpoint } = await s3rver(t, join(dir, 's3'));
  const spool = join(dir, 'spool');
  const { r, s3, notices } = setup(endpoint, spool, { s3UploadPartBytes: 5 * MiB, flushBytes: 256 * 1024 });
  const rec = r.start(info('multi'));
  let sent = '';
  for (let i = 0; i < 48; i++) {
    // ~12 MiB of poorly compressible text → 3 pieces
    const chunk = noise(256 * 1024);
    sent += chunk;
    rec.output(Buffer.from(chunk));
    if (i === 30) rec.marker('alert: something');
    await sleep(5);
  }
  // While the session runs, the spool holds the part.
  assert.deepEqual(await files(spool), ['multi.part-0001.cast.gz']);
  const res = await rec.close('exit');
  assert.deepEqual(notices, []);
  assert.equal(res.uri, 's3://rec/recordings/2025-03-04/multi');
  assert.deepEqual([res.parts, res.complete], [1, true]);
  assert.ok(res.bytes > 5 * MiB);
  const obj = await s3.send(
    new GetObjectCommand({ Bucket: 'rec', Key: 'recordings/2025-03-04/multi.part-0001.cast.gz' }),
  );
  const body = Buffer.from(await obj.Body!.transformToByteArray());
  assert.equal(body.length, res.bytes);
  assert.ok(zlib.gunzipSync(body).length > 12 * MiB); // a complete gzip file
  const read = await readAll(res.uri, { s3 });
  assert.equal(joined(read.events, 'o'), sent);
  assert.deepEqual(
    read.events.filter((e) => e[1] === 'm').map((e) => e[2]),
    ['alert: something'],
  );
  assert.deepEqual(await files(spool), []);
  // The same through the factory's reader.
  let n = 0;
  for await (const x of r.read(res.uri)) if (x.type === 'event') n++;
  assert.equal(n, read.events.length);
});

test('rotated small parts go to S3 as single objects', async (t) => {
  const dir = await tempDir(t);
  const { endpoint } = await s3rver(t, join(dir, 's3'));
  const { r, s3, notices } = setup(endpoint, join(dir, 'spool'), { partBytes: 16 * 1024, flushBytes: 4 * 1024 });
  const rec = r.start(info('small'));
  let sent = '';
  for (let i = 0; i < 40; i++) {
    const c = noise(3000);
    sent += c;
    rec.output(Buffer.from(c));
    await sleep(2);
  }
  const res = await rec.close('exit');
  assert.deepEqual(notices, []);
  assert.ok(res.parts >= 3);
  const read = await readAll(res.uri, { s3 });
  assert.equal(read.headers.length, res.parts);
  assert.equal(joined(read.events, 'o'), sent);
});

test('after a simulated crash, recoverSpool uploads the spooled part', async (t) => {
  const dir = await tempDir(t);
  const { endpoint } = await s3rver(t, join(dir, 's3'));
  const spool = join(dir, 'spool');
  const crashed = setup(endpoint, spool);
  const rec = crashed.r.start(info('crashed'));
  rec.output(Buffer.from('before the crash\r\n'));
  await sleep(250); // flushed to the spool; never closed: the process "dies" here
  assert.deepEqual(await files(spool), ['crashed.part-0001.cast.gz']);
  // The same recorder process does not recover a part it is still writing.
  assert.deepEqual(await crashed.r.recoverSpool(), { uploaded: [], alreadyStored: [], failed: [] });

  const restarted = setup(endpoint, spool); // a new process over the same spool
  const rep = await restarted.r.recoverSpool();
  assert.deepEqual(rep, {
    uploaded: ['s3://rec/recordings/2025-03-04/crashed.part-0001.cast.gz'],
    alreadyStored: [],
    failed: [],
  });
  await assert.rejects(access(join(spool, '2025-03-04')));
  const read = await readAll('s3://rec/recordings/2025-03-04/crashed', { s3: restarted.s3 });
  assert.deepEqual(read.damage, []); // repaired into a complete gzip
  assert.equal(joined(read.events, 'o'), 'before the crash\r\n');
  assert.match(read.events.at(-1)![2], /^recording_interrupted: /);
});

test('S3 down: the session goes on, errors are reported, the spool keeps the part for recovery', async (t) => {
  const dir = await tempDir(t);
  const s3dir = join(dir, 's3');
  const server = await s3rver(t, s3dir);
  const spool = join(dir, 'spool');
  await server.stop();
  const { r, notices } = setup(server.endpoint, spool, { partBytes: 16 * 1024, flushBytes: 4 * 1024 });
  const rec = r.start(info('down'));
  let sent = '';
  for (let i = 0; i < 12; i++) {
    const c = noise(3000);
    sent += c;
    rec.output(Buffer.from(c));
    await sleep(3);
  }
  const res = await rec.close('exit');
  assert.equal(res.complete, false);
  assert.ok(res.parts >= 2);
  assert.ok(notices.length >= 1 && notices.every((n) => n.type === 'recording_error' && n.sessionId === 'down'));
  assert.match(notices[0]!.message, /stays in the spool/);
  assert.equal((await files(spool)).length, res.parts);

  const again = await s3rver(t, s3dir, server.port); // S3 is back
  const restarted = setup(again.endpoint, spool);
  const rep = await restarted.r.recoverSpool();
  assert.equal(rep!.uploaded.length, res.parts);
  assert.deepEqual(rep!.failed, []);
  const read = await readAll(res.uri, { s3: restarted.s3 });
  assert.equal(joined(read.events, 'o'), sent);
  assert.deepEqual(read.damage, []);
});
