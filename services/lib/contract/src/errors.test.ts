import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS, JmpError, errorStatus, type ErrorCode } from './errors.js';

test('the catalogue gives each code one HTTP error status and a default sentence', () => {
  for (const [code, { status, message }] of Object.entries(ERRORS)) {
    assert.ok(status >= 400 && status < 600, code);
    assert.ok(message.length > 0 && message === message.trim(), code);
    assert.equal(errorStatus(code as ErrorCode), status);
  }
});

test('a JmpError takes its status from the catalogue, and its message when none is given', () => {
  const e = new JmpError('too_many_requests');
  assert.deepEqual([e.status, e.message, e.code], [429, ERRORS.too_many_requests.message, 'too_many_requests']);
  const f = new JmpError('not_found', 'no host h1', { host: 'h1' });
  assert.deepEqual([f.status, f.message, f.details], [404, 'no host h1', { host: 'h1' }]);
});
