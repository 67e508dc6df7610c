// The event queue: bounded, persisted across restarts, sent in batches,
// kept when sending fails.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentEvent } from '../api/client.js';
import { DiskHealth } from '../persist/disk.js';
import { EventQueue } from './events.js';
import { silentLog, tmpDir } from '../../test/fixtures.js';

const dir = tmpDir();
after(() => rmSync(dir, { recursive: true, force: true }));

test('bounded: the oldest are dropped and reported as a count; a failed send keeps everything', async () => {
  const q = new EventQueue(join(dir, 'a.json'), 3, new DiskHealth(silentLog), silentLog);
  for (let i = 0; i < 5; i++) q.push('offline_decision', { i });
  assert.equal(q.size, 3);
  assert.equal(q.droppedCount, 2);
  await assert.rejects(
    q.flush(async () => {
      throw new Error('down');
    }),
  );
  assert.equal(q.size, 3);
  const sent: AgentEvent[][] = [];
  assert.equal(await q.flush(async (e) => void sent.push(e)), true);
  assert.deepEqual(
    sent[0]!.map((e) => e.detail['i'] ?? e.detail['reason']),
    [2, 3, 4, 'events_dropped'],
  );
  assert.equal(sent[0]![3]!.detail['count'], 2);
  assert.equal(q.size, 0);
  assert.equal(q.droppedCount, 0);
});

test('persisted: a restart keeps unsent events; batches of at most 500', async () => {
  const path = join(dir, 'b.json');
  const q = new EventQueue(path, 2000, new DiskHealth(silentLog), silentLog);
  for (let i = 0; i < 1200; i++) q.push('tamper', { file: '/etc/pam.d/sshd', i });
  q.persist();
  const again = new EventQueue(path, 2000, new DiskHealth(silentLog), silentLog);
  again.load();
  assert.equal(again.size, 1200);
  const sizes: number[] = [];
  await again.flush(async (e) => void sizes.push(e.length));
  assert.deepEqual(sizes, [500, 500, 200]);
});

test('journal: a persist appends only what is new; a torn last line is skipped; a send rewrites the file', async () => {
  const { appendFileSync, readFileSync } = await import('node:fs');
  const path = join(dir, 'c.jsonl');
  const q = new EventQueue(path, 5, new DiskHealth(silentLog), silentLog);
  for (let i = 0; i < 3; i++) q.push('offline_decision', { i });
  q.persist();
  const first = readFileSync(path, 'utf8');
  assert.equal(first.split('\n').filter(Boolean).length, 3);
  for (let i = 3; i < 7; i++) q.push('offline_decision', { i });
  q.persist();
  const second = readFileSync(path, 'utf8');
  assert.ok(second.startsWith(first), 'the second persist appended');
  assert.equal(second.split('\n').filter(Boolean).length, 7);
  appendFileSync(path, '{"type":"offline_decision","at":"2026-'); // a crash in the middle of a line

  const again = new EventQueue(path, 5, new DiskHealth(silentLog), silentLog);
  again.load();
  assert.equal(again.size, 5, 'the last 5 of the 7 whole lines');
  assert.equal(again.droppedCount, 2);

  const sent: AgentEvent[] = [];
  await again.flush(async (e) => void sent.push(...e));
  assert.deepEqual(
    sent.map((e) => e.detail['i'] ?? e.detail['reason']),
    [2, 3, 4, 5, 6, 'events_dropped'],
  );
  again.persist();
  assert.equal(readFileSync(path, 'utf8'), '', 'everything was sent: the journal is empty');
  again.push('tamper', { file: '/etc/pam.d/sshd' });
  again.persist();
  const third = new EventQueue(path, 5, new DiskHealth(silentLog), silentLog);
  third.load();
  assert.deepEqual([third.size, third.droppedCount], [1, 0]);
});

test('the journal append and the status file never fsync on the event loop; the journal is synced on the thread pool', async () => {
  const { realFs } = await import('../persist/fs.js');
  const { StatusReporter } = await import('./status.js');
  const { readFileSync } = await import('node:fs');
  const calls: string[] = [];
  let synced!: () => void;
  const done = new Promise<void>((r) => {
    synced = r;
  });
  const fsl = {
    ...realFs,
    fsyncSync: (fd: number) => {
      calls.push('fsyncSync');
      realFs.fsyncSync(fd);
    },
    fdatasyncSync: (fd: number) => {
      calls.push('fdatasyncSync');
      realFs.fdatasyncSync(fd);
    },
    fdatasync: (fd: number, cb: (err: Error | null) => void) => {
      calls.push('fdatasync');
      realFs.fdatasync(fd, (err) => {
        cb(err);
        synced();
      });
    },
  };
  const q = new EventQueue(join(dir, 'd.jsonl'), 100, new DiskHealth(silentLog), silentLog, fsl);
  q.push('offline_decision', { i: 1 });
  q.persist();
  await done;
  const status = new StatusReporter(
    join(dir, 'status.json'),
    () => ({ mode: 'online' }) as never,
    new DiskHealth(silentLog),
    fsl,
  );
  status.writeNow();
  assert.deepEqual(calls, ['fdatasync']);
  assert.equal(readFileSync(join(dir, 'd.jsonl'), 'utf8').split('\n').filter(Boolean).length, 1);
  assert.equal(JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')).mode, 'online');
});
