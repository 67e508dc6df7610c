// The event buffer alone: lines, coalescing, the waiting count and batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLine, type AsciicastEvent } from './asciicast.js';
import { COALESCE_MS, EventBuffer, LINE_OVERHEAD } from './event-buffer.js';

const events = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => parseLine(l) as AsciicastEvent);

test('chunks of one stream a few ms apart become one line; another stream or an event ends it', () => {
  const b = new EventBuffer();
  b.text('o', 'ab', 1000);
  b.text('o', 'cd', 1000 + COALESCE_MS);
  b.text('i', 'x', 1001 + COALESCE_MS);
  b.text('o', 'ef', 1002 + COALESCE_MS);
  b.event('r', '100x30', 2000);
  b.text('o', 'gh', 2000);
  b.text('o', 'ij', 2001 + COALESCE_MS); // too late to join
  assert.equal(b.hasLines, true);
  b.seal();
  const { text } = b.take(Infinity);
  assert.deepEqual(events(text), [
    [1, 'o', 'abcd'],
    [1.006, 'i', 'x'],
    [1.007, 'o', 'ef'],
    [2, 'r', '100x30'],
    [2, 'o', 'gh'],
    [2.006, 'o', 'ij'],
  ]);
  assert.equal(b.pending, 0);
  assert.equal(b.hasEvents, false);
});

test('pending estimates the open line and is exact once it is sealed, escapes included', () => {
  const b = new EventBuffer();
  b.text('o', '\x1b[0m"', 5);
  assert.equal(b.pending, 5 + LINE_OVERHEAD);
  assert.equal(b.hasLines, false);
  assert.equal(b.hasEvents, true);
  b.seal();
  const { text, size } = b.take(Infinity);
  assert.equal(size, text.length);
  assert.equal(b.pending, 0);
  assert.deepEqual(events(text), [[0.005, 'o', '\x1b[0m"']]);
});

test('take returns at least one line, then lines while under the limit, in order', () => {
  const b = new EventBuffer();
  for (let i = 0; i < 5; i++) b.event('m', 'x'.repeat(100), i);
  const first = b.take(1);
  assert.equal(events(first.text).length, 1);
  const next = b.take(first.size * 2);
  assert.equal(events(next.text).length, 2);
  const rest = b.take(Infinity);
  assert.deepEqual(
    events(rest.text).map((e) => e[0]),
    [0.003, 0.004],
  );
  assert.equal(b.pending, 0);
  assert.deepEqual(b.take(10), { text: '', size: 0 });
});
