// The file-transfer page's byte counts, as a person reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { size } from './files.js';

test('byte counts: bytes below 1 KiB, then binary units with one decimal', () => {
  assert.equal(size(0), '0 B');
  assert.equal(size(1023), '1023 B');
  assert.equal(size(1024), '1.0 KiB');
  assert.equal(size(64 * 1024 * 1024), '64.0 MiB');
  assert.equal(size(3 * 1024 ** 3 + 512 * 1024 ** 2), '3.5 GiB');
  assert.equal(size(2 * 1024 ** 5), '2048.0 TiB');
});
