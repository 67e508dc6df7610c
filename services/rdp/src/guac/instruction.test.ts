import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeInstruction, parseInstruction } from './instruction.js';

test('lengths count code points, and what is encoded parses back', () => {
  const el = ['jmp-login', 'Jürgen', '', 'p€😀,;.'];
  const text = encodeInstruction(el);
  assert.equal(text, '9.jmp-login,6.Jürgen,0.,6.p€😀,;.;');
  assert.deepEqual(parseInstruction(text), el);
});

test('anything but exactly one whole instruction is refused', () => {
  for (const bad of ['', 'x', '3.nop', '3.nop;3.nop;', '4.nop;', '3.nop,', '99999999.x;', '2.ab;x'])
    assert.equal(parseInstruction(bad), null, bad);
  assert.deepEqual(parseInstruction('3.nop;'), ['nop']);
});
