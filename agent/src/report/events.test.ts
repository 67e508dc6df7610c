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
  await assert.rejects(q.flush(async () => {
    throw new Error('down');
  }));
  assert.equal(q.size, 3);
  const sent: AgentEvent[][] = [];
  assert.equal(await q.flush(async (e) => void sent.push(e)), true);
  assert.deepEqual(sent[0]!.map((e) => e.detail['i'] ?? e.detail['reason']), [2, 3, 4, 'events_dropped']);
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
