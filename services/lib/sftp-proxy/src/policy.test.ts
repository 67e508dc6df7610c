// Transfer modes per service: the refusals name the host and the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opensForWrite, refusal, OPEN_FLAGS } from './policy.js';

test('full allows everything; download-only refuses writes; none refuses reads and writes; listing always passes', () => {
  for (const a of ['list', 'read', 'write'] as const) assert.equal(refusal('full', a, 'h1'), null);
  assert.equal(refusal('download', 'read', 'h1'), null);
  assert.match(refusal('download', 'write', 'h1')!, /h1 is download-only/);
  assert.match(refusal('none', 'read', 'h1')!, /turned off for h1/);
  assert.match(refusal('none', 'write', 'h1')!, /turned off for h1/);
  assert.equal(refusal('none', 'list', 'h1'), null);
});

test('an open writes when it asks for write, append, create or truncate', () => {
  assert.equal(opensForWrite(OPEN_FLAGS.READ), false);
  for (const f of [OPEN_FLAGS.WRITE, OPEN_FLAGS.APPEND, OPEN_FLAGS.CREAT, OPEN_FLAGS.TRUNC, 0x1a])
    assert.equal(opensForWrite(f), true, String(f));
});
