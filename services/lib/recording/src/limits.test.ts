// The cap and back-pressure policy alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gapMarker, MARKERS_AFTER_CAP, RecordingLimits, RESERVE } from './limits.js';

test('text over the backlog is dropped, reported once per run of drops, and counted for the gap marker', () => {
  const l = new RecordingLimits({ maxBytes: 1e9, maxBacklogBytes: 100 });
  assert.deepEqual(l.admit(10, 100), { keep: true, gap: 0 });
  const first = l.admit(10, 101);
  assert.ok(!first.keep);
  assert.match(first.report ?? '', /too slow.*over 100 bytes/);
  assert.deepEqual(l.admit(5, 500), { keep: false, report: null });
  assert.deepEqual(l.admit(1, 0), { keep: true, gap: 15 });
  assert.deepEqual(l.admit(1, 0), { keep: true, gap: 0 });
  const again = l.admit(1, 101);
  assert.ok(!again.keep && again.report, 'a new run of drops is reported again');
  assert.deepEqual(l.admit(1, 0), { keep: true, gap: 1 });
  assert.match(gapMarker(15), /^recording_gap: 15 characters/);
});

test('the cap keeps room for the marker and the trailer; truncation happens once', () => {
  const l = new RecordingLimits({ maxBytes: 10_000, maxBacklogBytes: 100 });
  const room = 10_000 - RESERVE;
  assert.equal(l.overCap(room - 40 - 10, 10), false);
  assert.equal(l.overCap(room - 40 - 10, 11), true);
  assert.equal(l.reached(room - 1), false);
  assert.equal(l.reached(room), true);
  assert.equal(l.truncated, false);
  const t = l.truncate();
  assert.match(t?.marker ?? '', /^recording_truncated: .*limit of 10000 bytes/);
  assert.match(t?.notice ?? '', /limit of 10000 bytes/);
  assert.equal(l.truncated, true);
  assert.equal(l.truncate(), null);
});

test('markers are kept without limit before the cap and up to MARKERS_AFTER_CAP after it', () => {
  const l = new RecordingLimits({ maxBytes: 10_000, maxBacklogBytes: 100 });
  for (let i = 0; i < 5000; i++) assert.equal(l.allowMarker(), true);
  l.truncate();
  let kept = 0;
  for (let i = 0; i < MARKERS_AFTER_CAP + 50; i++) if (l.allowMarker()) kept++;
  assert.equal(kept, MARKERS_AFTER_CAP);
});
