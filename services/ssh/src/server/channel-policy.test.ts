// Which env requests reach a target: names and values that cannot change what its shell runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptEnv, subsystemRefusal } from './channel-policy.js';

test('env: terminal and locale names with plain values pass; anything that could steer the shell does not', () => {
  for (const [k, v] of [
    ['TERM', 'xterm-256color'],
    ['LANG', 'en_US.UTF-8'],
    ['LC_ALL', 'de_DE.UTF-8@euro'],
    ['COLORTERM', 'truecolor'],
  ]) {
    assert.ok(acceptEnv(k!, v!), `${k}=${v}`);
  }
  for (const [k, v] of [
    ['BASH_ENV', '/tmp/x'],
    ['PROMPT_COMMAND', 'rm -rf /'],
    ['LD_PRELOAD', '/tmp/x.so'],
    ['LC_ALL', '/tmp/evil-locale'],
    ['TERM', 'xterm; rm -rf /'],
    ['LANG', '$(id)'],
    ['TERM', 'x'.repeat(65)],
  ]) {
    assert.ok(!acceptEnv(k!, v!), `${k}=${v}`);
  }
});

test('a subsystem refusal is one clear line naming it, and says sftp is the one allowed', () => {
  assert.match(
    subsystemRefusal('x11-fwd'),
    /^jmp: the "x11-fwd" subsystem is not available on jmp-ssh[^\n]*sftp subsystem are allowed\r\n$/,
  );
});
