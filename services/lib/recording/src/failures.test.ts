// The store never throws into the caller: unwritable directory, full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecordings, type RecordingNotice } from './index.js';
import { joined, noise, readAll, sleep, tempDir } from '../test/testing.js';

const info = (sessionId: string) => ({
  sessionId,
  user: 'alice',
  host: 'web-01',
  width: 80,
  height: 24,
  term: 'xterm',
  startedAt: new Date('2025-03-04T00:00:00Z'),
});

test('an unwritable recording directory: no throw, errors reported, session result says incomplete', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'not-a-dir'), 'x');
  const notices: RecordingNotice[] = [];
  // A path below a regular file cannot be created, even by root (chmod would not stop root).
  const r = createRecordings(
    { dir: join(dir, 'not-a-dir', 'recordings'), flushMs: 20 },
    { onNotice: (n) => notices.push(n) },
  );
  const rec = r.start(info('ro'));
  for (let i = 0; i < 20; i++) {
    rec.output(Buffer.from(`line ${i}\r\n`));
    rec.resize(100, 30);
    rec.marker('m');
    await sleep(5);
  }
  const res = await rec.close('exit');
  assert.equal(res.complete, false);
  assert.equal(res.parts, 0);
  assert.ok(notices.length >= 1);
  assert.deepEqual([...new Set(notices.map((n) => n.code))].sort(), ['recording_lost', 'recording_open_failed']);
  assert.match(notices[0]!.message, /ENOTDIR/);
});

test('a store that recovers before the backlog overflows loses nothing', async (t) => {
  const dir = await tempDir(t);
  const blocker = join(dir, 'rec');
  await writeFile(blocker, 'x'); // the recording dir is a file for now
  const notices: RecordingNotice[] = [];
  const r = createRecordings({ dir: blocker, flushMs: 20 }, { onNotice: (n) => notices.push(n) });
  const rec = r.start(info('late'));
  rec.output(Buffer.from('kept while the store was down\r\n'));
  await sleep(100);
  await rm(blocker);
  await mkdir(blocker, { mode: 0o700 });
  await sleep(1200); // the next open attempt
  rec.output(Buffer.from('after\r\n'));
  const res = await rec.close('exit');
  assert.equal(notices[0]?.code, 'recording_open_failed');
  assert.equal(res.complete, true);
  assert.equal(joined((await readAll(res.uri)).events, 'o'), 'kept while the store was down\r\nafter\r\n');
});

function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test(
  'a full disk: no throw, errors reported, what reached the disk reads back',
  { skip: !canMountTmpfs() && 'needs root to mount a small tmpfs' },
  async (t) => {
    const mnt = await mkdtemp(join(tmpdir(), 'jmp-rec-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      await rm(mnt, { recursive: true });
      t.skip('mount not permitted here');
      return;
    }
    t.after(async () => {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
      await rm(mnt, { recursive: true });
    });
    const notices: RecordingNotice[] = [];
    const r = createRecordings(
      { dir: mnt, flushMs: 20, flushBytes: 16 * 1024, maxBacklogBytes: 256 * 1024 },
      { onNotice: (n) => notices.push(n) },
    );
    const rec = r.start(info('full'));
    for (let i = 0; i < 200; i++) {
      rec.output(Buffer.from(noise(4000)));
      await sleep(1);
    } // ~600 KiB compressed > 256 KiB
    const res = await rec.close('exit');
    assert.equal(res.complete, false);
    if (process.env.DEBUG_REC)
      console.log(
        res,
        notices.map((n) => `${n.type} ${n.code}: ${n.message}`),
      );
    const codes = new Set(notices.map((n) => n.code));
    assert.ok(codes.has('recording_write_failed'), [...codes].join(' '));
    assert.ok(notices.some((n) => /ENOSPC/.test(n.message)));
    // What reached the disk is readable up to the point the disk filled.
    const read = await readAll(res.uri);
    assert.ok(read.events.length > 10);
    assert.equal(read.headers[0]!.jmp!.session, 'full');
  },
);
