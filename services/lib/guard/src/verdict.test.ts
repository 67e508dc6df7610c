// The verdict on a submission: lines + the command the shell is reading + rules → judged lines and the block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeSubmission, CONTINUED_LIMIT_RULE } from './verdict.js';
import { UNCHECKED_RULE, type JudgeOptions } from './judge.js';
import { LogicalCommand } from './continuation.js';
import { compileRules } from './rules.js';
import { DEMO_RULES } from './demo-rules.js';
import type { GuardEvent } from './guard.js';
import type { SubmittedLine } from './submission.js';

const demo = compileRules(DEMO_RULES);
const events: GuardEvent[] = [];
const opts = (over: Partial<JudgeOptions> = {}): JudgeOptions => ({
  rules: demo,
  budgetMs: 50,
  failOpen: false,
  now: () => 0,
  onEvent: (e) => events.push(e),
  ...over,
});
const screen = (line: string): SubmittedLine => ({ line, source: 'screen' });
const input = (line: string): SubmittedLine => ({ line, source: 'input' });

test('a passing line: judged, nothing blocked, the continuation state given back (the old one untouched)', () => {
  const pending = new LogicalCommand();
  const v = judgeSubmission([screen('ls -la')], pending, opts());
  assert.deepEqual(
    v.judged.map((j) => [j.verdict, j.line, j.source]),
    [['pass', 'ls -la', 'screen']],
  );
  assert.equal(v.blocked, undefined);
  const a = judgeSubmission([screen('rm -r /tmp/x')], pending, opts());
  assert.equal(a.judged[0]?.verdict, 'alert');
  assert.equal(a.blocked, undefined, 'an alert passes');
  const open = judgeSubmission([screen('echo "a')], pending, opts());
  assert.equal(open.logical.pending, true);
  assert.equal(pending.pending, false);
});

test('a block names its rule; a command continued over lines is judged joined', () => {
  const v = judgeSubmission([screen('rm -rf /')], new LogicalCommand(), opts());
  assert.equal(v.blocked?.rule.id, 'demo-rm-root');
  assert.equal(v.blocked?.message, 'jmp: blocked by rule "recursive delete of /" (critical)');
  const first = judgeSubmission([screen('rm -rf \\')], new LogicalCommand(), opts());
  assert.equal(first.blocked, undefined);
  const joined = judgeSubmission([screen('/')], first.logical, opts());
  assert.equal(joined.blocked?.line, 'rm -rf /');
});

test('a pasted block: one message for all its lines', () => {
  const v = judgeSubmission([screen('ls'), input('rm -rf /'), input('pwd')], new LogicalCommand(), opts());
  assert.equal(
    v.blocked?.message,
    'jmp: blocked a pasted block of 3 lines by rule "recursive delete of /" (critical):' +
      ' rm -rf /; nothing of it was sent',
  );
  const partial = judgeSubmission(
    [screen('ls'), { line: 'rm -rf /', source: 'input', partial: true }],
    new LogicalCommand(),
    opts(),
  );
  assert.equal(partial.blocked?.rule.id, 'demo-rm-root', 'the line still in the shell buffer is judged too');
});

test('rules that cannot be had: refused with the unchecked rule; a continuation over the bound: refused', () => {
  const v = judgeSubmission([screen('ls')], new LogicalCommand(), opts({ rules: null }));
  assert.equal(v.blocked?.rule, UNCHECKED_RULE);
  assert.equal(events.at(-1)?.type, 'guard_refused');
  const small = new LogicalCommand(20);
  const over = judgeSubmission([screen('echo "' + 'a'.repeat(30))], small, opts());
  assert.equal(over.blocked?.rule, CONTINUED_LIMIT_RULE);
  assert.equal(over.blocked?.message, 'jmp: blocked: a command continued over more than 20 bytes cannot be checked');
});
