import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputWindow } from './output-window.js';

test('pauses at the limit, resumes at half, counts each ack once', () => {
  const events: string[] = [];
  const w = new OutputWindow(
    100,
    () => events.push('pause'),
    () => events.push('resume'),
  );
  const a = w.sent(60);
  assert.equal(w.isPaused, false);
  const b = w.sent(40);
  assert.deepEqual(events, ['pause']);
  const c = w.sent(30); // already paused: a chunk in flight still counts
  assert.equal(w.pending, 130);
  a();
  a();
  assert.equal(w.pending, 70);
  assert.deepEqual(events, ['pause'], 'still above half the window');
  b();
  assert.deepEqual(events, ['pause', 'resume']);
  assert.equal(w.isPaused, false);
  c();
  assert.equal(w.pending, 0);
});
