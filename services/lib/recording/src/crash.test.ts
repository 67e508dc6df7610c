// Crash safety: a child process records and is killed with SIGKILL; what is on
// disk must hold every event older than the flush interval, and decompress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { joined, readAll, sleep, tempDir } from '../test/testing.js';

const here = import.meta.dirname;
const FLUSH_MS = 50;

test('kill -9 loses at most the last flush interval', async (t) => {
  const dir = await tempDir(t);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, '..', 'test', 'crash-child.fixture.ts'), dir, String(FLUSH_MS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const seen: { n: number; at: number }[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) seen.push({ n: Number(l), at: performance.now() });
  });
  while (seen.length < 150) await sleep(20); // ~450 ms of recording
  const killedAt = performance.now();
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));

  const file = join(dir, '2025-03-04', 'crash.part-0001.cast.gz');
  const raw = await readFile(file);
  // No gzip trailer (the process died), but every flush decompresses.
  assert.throws(() => zlib.gunzipSync(raw));
  const text = zlib.gunzipSync(raw, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
  assert.match(text, /^\{"version":2,/);
  const { events, damage } = await readAll(dir + '/2025-03-04/crash');
  assert.deepEqual(
    damage.filter((d) => !/cut/.test(d)),
    [],
  );
  const out = joined(events, 'o');
  // Event numbers on disk form an unbroken run from 1.
  const nums = [...out.matchAll(/line (\d+)\r\n/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    nums,
    nums.map((_, i) => i + 1),
  );
  // Everything handed over more than the flush interval (plus slack for
  // compression, fsync and a busy CI machine) before the kill is there.
  const slack = 250;
  const mustHave = seen.filter((s) => s.at < killedAt - FLUSH_MS - slack).at(-1)?.n ?? 0;
  assert.ok(mustHave > 50, `only ${mustHave} events were old enough`);
  assert.ok((nums.at(-1) ?? 0) >= mustHave, `on disk up to ${nums.at(-1)}, expected at least ${mustHave}`);
});
