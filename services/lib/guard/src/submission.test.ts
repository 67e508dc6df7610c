// Which keys submit, and the lines a run of queued keys submits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSubmission, submissionLength, submittedLines } from './submission.js';
import { KeyReader } from './keys.js';

const keys = (s: string) => new KeyReader().push(Buffer.from(s));

test('Enter, Ctrl-O and a paste with a newline submit; other keys do not', () => {
  assert.deepEqual(keys('a\r\x0f\x03\x1b[A').map(isSubmission), [false, true, true, false, false]);
  assert.deepEqual(keys('\x1b[200~one\x1b[201~\x1b[200~a\nb\x1b[201~').map(isSubmission), [false, true]);
  assert.equal(submissionLength(keys('\rls\rpw')), 3, 'up to and including the last submission');
});

test('one Enter: the screen line; keys typed ahead: rebuilt as the shell reads them', () => {
  assert.deepEqual(submittedLines('ls', keys('\r')), [{ line: 'ls', source: 'screen' }]);
  assert.deepEqual(submittedLines('ls', keys('\rrm -x\x7frf /\r')), [
    { line: 'ls', source: 'screen' },
    { line: 'rm -rf /', source: 'input' },
  ]);
  assert.deepEqual(submittedLines(null, keys('\r')), [], 'no echo: the first line is not known');
});

test('a paste completes the screen line; its last line stays partial in the shell buffer', () => {
  const paste = keys('\x1b[200~a\nrm -rf /\nech\x1b[201~');
  assert.deepEqual(submittedLines('echo ', paste), [
    { line: 'echo a', source: 'screen' },
    { line: 'rm -rf /', source: 'input' },
    { line: 'ech', source: 'input', partial: true },
  ]);
  assert.deepEqual(submittedLines(null, paste)[0], { line: 'a', source: 'input' });
});
