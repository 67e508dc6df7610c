// The headless screen: sizes a client may send, and screens where every row wraps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineTracker } from './line-tracker.js';

test('a client that sent no window size (0x0, e.g. `ssh -tt` from a pipe) gets 80x24, not a 2-column screen', () => {
  const t = new LineTracker({ cols: 0, rows: 0 });
  try {
    assert.equal(t.cols, 80);
    assert.equal(t.rows, 24);
    t.resize(0, 0); // a window-change with zeros keeps the size
    assert.deepEqual([t.cols, t.rows], [80, 24]);
  } finally {
    t.dispose();
  }
});

test('a screen on which every row is wrapped: the cursor line is read, it does not loop', () => {
  const t = new LineTracker({ cols: 2, rows: 3 });
  try {
    t.keepLine = false;
    t.write(Buffer.from('x'.repeat(101))); // 50 full rows and one more: every row continues the one above
    const line = t.cursorLine();
    assert.ok(line.text.startsWith('x'), JSON.stringify(line));
    assert.ok(line.text.length <= 2 * t.rows, `at most the screen: ${line.text.length}`);
  } finally {
    t.dispose();
  }
});
