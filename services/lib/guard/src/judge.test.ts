// One line, one verdict, the same on every path: a line that cannot be
// checked is refused unless the operator chose fail-open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeLine, judgeScript, type JudgeOptions } from './judge.js';
import { compileRules, type CompiledRules } from './rules.js';
import type { GuardEvent } from './guard.js';

const rules = compileRules([
  { id: 1, name: 'x', pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`, action: 'block', severity: 'high', list: 'deny' },
]);

function opts(over: Partial<JudgeOptions> = {}): JudgeOptions & { events: GuardEvent[] } {
  const events: GuardEvent[] = [];
  return { rules, budgetMs: 50, failOpen: false, now: () => 0, onEvent: (e) => events.push(e), events, ...over };
}

test('a matcher slower than the budget: refused (guard_refused), or with fail-open passed as skipped (guard_skipped)', () => {
  let t = 0;
  const slow: CompiledRules = {
    mode: 'deny-list',
    size: 1,
    match: () => {
      t += 51;
      return { verdict: 'pass', rules: [] };
    },
  };
  const closed = opts({ rules: slow, now: () => t });
  const r = judgeLine('ls', 'input', closed);
  assert.equal(r.verdict, 'block');
  assert.equal(r.rules[0]?.id, 'unchecked');
  assert.equal(r.skipped, undefined);
  assert.equal(closed.events[0]?.type, 'guard_refused');
  const open = opts({ rules: slow, now: () => t, failOpen: true });
  assert.equal(judgeLine('ls', 'input', open).skipped, 'budget');
  assert.equal(open.events[0]?.type, 'guard_skipped');
});

test('a one-shot command is judged whole and line by line: a newline or backslash-newline hides nothing', () => {
  const verdicts = (s: string) => judgeScript(s, opts()).map((j) => `${j.verdict}:${j.line}`);
  assert.deepEqual(verdicts('rm -rf /tmp/x'), ['block:rm -rf /tmp/x']);
  assert.ok(verdicts('rm -rf \\\n/tmp/x').includes('block:rm -rf /tmp/x'));
  assert.ok(verdicts('sh <<EOF\nrm -rf /tmp/x\nEOF').includes('block:rm -rf /tmp/x'));
  assert.deepEqual(verdicts('ls'), ['pass:ls']);
  let t = 0;
  const slow: CompiledRules = {
    mode: 'deny-list',
    size: 1,
    match: () => {
      t += 100;
      return { verdict: 'pass', rules: [] };
    },
  };
  assert.deepEqual(
    judgeScript('uptime', opts({ rules: slow, now: () => t })).map((j) => j.verdict),
    ['block'],
  );
});
