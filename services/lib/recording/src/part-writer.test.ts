// The part writer alone, against an in-memory store whose sinks can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { PartWriter, type PartWriterOptions } from './part-writer.js';
import type { PartSink, RecordingStore } from './store.js';

class MemSink implements PartSink {
  durable: Buffer[] = [];
  queued: Buffer[] = [];
  state: 'open' | 'complete' | 'abandoned' = 'open';
  constructor(private readonly store: MemStore) {}
  get queuedBytes(): number {
    return this.queued.reduce((n, b) => n + b.length, 0);
  }
  async append(chunk: Buffer): Promise<void> {
    this.queued.push(chunk);
    if (this.store.failAppends) throw new Error('disk full');
    this.durable.push(...this.queued);
    this.queued = [];
  }
  async complete(): Promise<void> {
    await this.append(Buffer.alloc(0));
    this.state = 'complete';
  }
  async abandon(): Promise<void> {
    this.state = 'abandoned';
  }
}

class MemStore implements RecordingStore {
  readonly kind = 'file';
  parts = new Map<string, MemSink>();
  failOpens = 0;
  failAppends = false;
  sessionUri(key: string): string {
    return `mem:///${key}`;
  }
  async openPart(key: string): Promise<PartSink> {
    if (this.failOpens > 0) {
      this.failOpens--;
      throw new Error('no space');
    }
    const s = new MemSink(this);
    this.parts.set(key, s);
    return s;
  }
}

function setup(over: Partial<PartWriterOptions> = {}) {
  const store = new MemStore();
  const reports: string[] = [];
  let size: [number, number] = [80, 24];
  const w = new PartWriter({
    store,
    sessionKey: '2025-03-04/s1',
    gzipLevel: 6,
    partBytes: 1 << 20,
    maxQueuedBytes: 1 << 20,
    header: (n, [cols, rows]) => `H${n} ${cols}x${rows}\n`,
    size: () => size,
    clock: () => 1500,
    report: (type, code) => reports.push(`${type}/${code}`),
    ...over,
  });
  return {
    w,
    store,
    reports,
    resize: (s: [number, number]) => {
      size = s;
    },
  };
}

test('a part begins with its header, holds every batch and ends with a gzip trailer', async () => {
  const { w, store, reports } = setup();
  assert.equal(await w.ready(), true);
  await w.write('a\n', 2);
  await w.write('b\n', 2);
  await w.finish();
  const sink = store.parts.get('2025-03-04/s1.part-0001.cast.gz')!;
  assert.equal(sink.state, 'complete');
  assert.equal(zlib.gunzipSync(Buffer.concat(sink.durable)).toString(), 'H1 80x24\na\nb\n');
  assert.equal(w.stored, Buffer.concat(sink.durable).length);
  assert.deepEqual([w.parts, w.lost, w.hasPart, reports], [1, false, false, []]);
});

test('rotation: past partBytes the part is closed; the next starts with the terminal size at that moment', async () => {
  const { w, store, resize } = setup({ partBytes: 1 });
  await w.ready();
  resize([100, 30]);
  await w.write('one\n', 4);
  assert.equal(w.hasPart, false);
  resize([120, 40]); // after the rotation: not the next part's start
  await w.ready();
  await w.write('two\n', 4);
  assert.deepEqual([...store.parts.keys()], ['2025-03-04/s1.part-0001.cast.gz', '2025-03-04/s1.part-0002.cast.gz']);
  const texts = [...store.parts.values()].map((s) => zlib.gunzipSync(Buffer.concat(s.durable)).toString());
  assert.deepEqual(texts, ['H1 80x24\none\n', 'H2 100x30\ntwo\n']);
});

test('an open failure waits a second before the next try, unless retryNow()', async () => {
  const { w, store, reports } = setup();
  store.failOpens = 1;
  assert.equal(await w.ready(), false);
  assert.equal(await w.ready(), false); // within the retry delay: not even tried
  assert.deepEqual(reports, ['recording_error/recording_open_failed']);
  w.retryNow();
  assert.equal(await w.ready(), true);
  assert.equal(w.parts, 1);
});

test('a failing store: appends are retried, then the part is given up; the next begins with a gap marker', async () => {
  const { w, store, reports } = setup({ maxQueuedBytes: 64 });
  await w.ready();
  store.failAppends = true;
  await w.write('x'.repeat(10) + '\n', 11);
  assert.equal(w.hasPart, true); // queued, under maxQueuedBytes: kept and retried
  await w.write(randomBytes(200).toString('hex') + '\n', 401); // does not compress: over maxQueuedBytes
  assert.equal(w.hasPart, false);
  assert.equal(w.lost, true);
  assert.equal(w.stored, 0);
  assert.deepEqual(reports, [
    'recording_error/recording_write_failed',
    'recording_error/recording_write_failed',
    'recording_gap/recording_part_abandoned',
  ]);
  assert.equal(store.parts.get('2025-03-04/s1.part-0001.cast.gz')!.state, 'abandoned');
  store.failAppends = false;
  await w.ready();
  await w.write('y\n', 2);
  await w.finish();
  const text = zlib.gunzipSync(Buffer.concat(store.parts.get('2025-03-04/s1.part-0002.cast.gz')!.durable)).toString();
  assert.match(text, /^H2 80x24\n\[1\.500000, "m", "recording_gap: the previous part/);
  assert.ok(text.endsWith('y\n'));
});
