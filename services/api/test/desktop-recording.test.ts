// GET /v1/sessions/:id/desktop-recording: a desktop's recording parts, as
// jmp-rdp stores them (`<key>.part-NNNN.guac.gz`), come back as one stream in
// part order, from the local store and from S3 (a real S3 API: s3rver).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createS3Client, S3Objects } from '@jmp/recording';
import S3rver from 's3rver';
import { startApi, addUser, addHost, webLogin, type TestApi } from './harness.js';

process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';

const PW = 'correct horse battery';
const PARTS = ['4.size,0,1024,768;', '4.sync,1,0;', '4.sync,4,2000;'];
let api: TestApi, s3: S3rver, endpoint: string, dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jmp-desktop-rec-'));
  s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: 'rec' }],
  });
  const addr = await s3.run();
  endpoint = `http://127.0.0.1:${addr.port}`;
  // jmp-api reads the recording store's S3 settings like jmp-ssh and jmp-rdp.
  process.env.JMP_RECORDING_S3_ENDPOINT = endpoint;
  process.env.JMP_RECORDING_S3_FORCE_PATH_STYLE = 'true';
  api = await startApi();
});
after(async () => {
  await api?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ownSession(recordingUri: string) {
  const u = await addUser(api.db, { password: PW });
  const h = await addHost(api.db, { addresses: ['10.9.0.8'] });
  const id = randomUUID();
  await api.db('sessions').insert({
    id,
    user_id: u.id,
    host_id: h.id,
    protocol: 'rdp',
    ended_at: new Date(),
    end_reason: 'closed',
    recording_uri: recordingUri,
  });
  const { cookie } = await webLogin(api, u.username, PW);
  return { id, cookie };
}

async function replay(id: string, cookie: Record<string, string>) {
  const r = await fetch(`${api.url}/v1/sessions/${id}/desktop-recording`, { headers: cookie });
  return { status: r.status, text: await r.text() };
}

test('local store: the parts in order (part 10 after part 2), unzipped', async () => {
  const key = `2026-12-06/${randomUUID()}`;
  mkdirSync(join(dir, 'local', '2026-12-06'), { recursive: true });
  // Written out of order, numbered past 9 so a text sort would be wrong.
  writeFileSync(join(dir, 'local', `${key}.part-0010.guac.gz`), gzipSync(PARTS[2]!));
  writeFileSync(join(dir, 'local', `${key}.part-0001.guac.gz`), gzipSync(PARTS[0]!));
  writeFileSync(join(dir, 'local', `${key}.part-0002.guac.gz`), gzipSync(PARTS[1]!));
  const s = await ownSession(pathToFileURL(join(dir, 'local', key)).href);
  assert.deepEqual(await replay(s.id, s.cookie), { status: 200, text: PARTS.join('') });
});

test('S3: the same stream from the bucket; a missing recording is a clear 404', async () => {
  const key = `desktops/2026-12-06/${randomUUID()}`;
  const bucket = new S3Objects(createS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true }), 'rec');
  for (const [n, body] of [
    ['0010', PARTS[2]],
    ['0001', PARTS[0]],
    ['0002', PARTS[1]],
  ] as const)
    await bucket.put(`${key}.part-${n}.guac.gz`, gzipSync(body!));
  const s = await ownSession(`s3://rec/${key}`);
  assert.deepEqual(await replay(s.id, s.cookie), { status: 200, text: PARTS.join('') });

  const gone = await ownSession(`s3://rec/desktops/2026-12-06/${randomUUID()}`);
  const r = await replay(gone.id, gone.cookie);
  assert.equal(r.status, 404);
  assert.match(JSON.parse(r.text).error.message, /missing from the store/);
});
