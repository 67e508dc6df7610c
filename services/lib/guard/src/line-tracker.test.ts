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

test('the cursor line read twice is the same; output and a resize are seen at the next read', () => {
  const t = new LineTracker({ cols: 10, rows: 3 });
  try {
    t.write(Buffer.from('$ ab'));
    assert.deepEqual(t.cursorLine(), { text: '$ ab' + ' '.repeat(6), left: '$ ab' });
    assert.equal(t.cursorLine(), t.cursorLine(), 'nothing changed: the same reading');
    t.write(Buffer.from('c\b'));
    assert.deepEqual(t.cursorLine(), { text: '$ abc' + ' '.repeat(5), left: '$ ab' });
    t.write(Buffer.from('defghij'));
    assert.equal(t.cursorLine().left, '$ abdefghij', 'the cursor wrapped to the next row: the line is joined');
    const before = t.cursorLine();
    t.resize(20, 3);
    const after = t.cursorLine();
    assert.notEqual(after, before, 'read again after the resize');
    assert.equal(after.text.length % 20, 0, `rows of the new width: ${JSON.stringify(after.text)}`);
  } finally {
    t.dispose();
  }
});
