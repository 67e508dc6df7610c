// The database terminal's line editor: echo, lines, Ctrl-C, Ctrl-D, pastes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DbEditor } from './db-editor.js';

test('typed keys echo; Enter submits the line; Backspace and Ctrl-U edit', () => {
  const e = new DbEditor();
  assert.deepEqual(e.feed('SELEX'), [{ type: 'echo', text: 'SELEX' }]);
  assert.deepEqual(e.feed('\x7fCT 1;\r'), [
    { type: 'echo', text: '\b \bCT 1;\r\n' },
    { type: 'line', text: 'SELECT 1;' },
  ]);
  e.feed('junk');
  e.feed('\x15');
  assert.equal(e.line, '');
});

test('a paste of several lines gives each line; CR LF is one Enter; escapes are skipped', () => {
  const e = new DbEditor();
  const ev = e.feed('\x1b[200~SELECT 1;\r\nSELECT 2;\rSEL\x1b[201~');
  assert.deepEqual(
    ev.filter((x) => x.type === 'line'),
    [
      { type: 'line', text: 'SELECT 1;' },
      { type: 'line', text: 'SELECT 2;' },
    ],
  );
  assert.equal(e.line, 'SEL');
});

test('Ctrl-C drops the line and says so; Ctrl-D on an empty line is EOF, not inside one', () => {
  const e = new DbEditor();
  assert.deepEqual(e.feed('DELETE\x03'), [{ type: 'echo', text: 'DELETE^C\r\n' }, { type: 'interrupt' }]);
  assert.equal(e.line, '');
  assert.deepEqual(e.feed('x\x04'), [{ type: 'echo', text: 'x' }]);
  e.feed('\x7f');
  assert.deepEqual(e.feed('\x04'), [{ type: 'eof' }]);
});
