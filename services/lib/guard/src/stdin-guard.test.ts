// The guard of sessions without a terminal: stdin lines are judged before
// they are forwarded; blocked lines, over-long lines and a blocked last line
// without a newline never reach the target.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StdinLineGuard } from './stdin-guard.js';
import { compileRules } from './rules.js';
import type { GuardEvent } from './guard.js';

const rules = compileRules([
  {
    id: 1,
    name: 'no deleting /tmp/x',
    pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
    action: 'block',
    severity: 'high',
    list: 'deny',
  },
  { id: 2, name: 'reboot', pattern: String.raw`\breboot\b`, action: 'alert', severity: 'medium', list: 'deny' },
]);

/** Feeds the chunks, then EOF; returns everything forwarded, said and judged. */
function run(g: StdinLineGuard, chunks: string[], eof = true) {
  const fwd: Buffer[] = [],
    say: Buffer[] = [],
    judged: Array<[string, string]> = [];
  for (const r of [...chunks.map((c) => g.input(Buffer.from(c))), ...(eof ? [g.end()] : [])]) {
    fwd.push(r.forward);
    say.push(r.toUser);
    judged.push(...r.judged.map((j): [string, string] => [j.line, j.skipped ? 'skipped' : j.verdict]));
  }
  return { forwarded: Buffer.concat(fwd).toString(), said: Buffer.concat(say).toString(), judged };
}

test('lines are forwarded only once whole and judged; a blocked line is not sent and the person is told', () => {
  const g = new StdinLineGuard({ rules });
  const first = g.input(Buffer.from('echo one\nrm -rf /tm'));
  assert.equal(first.forward.toString(), 'echo one\n', 'the unfinished line is held');
  const r = run(g, ['p/x\nreboot\n', 'echo two\n']);
  assert.equal(r.forwarded, 'reboot\necho two\n');
  assert.match(r.said, /^jmp: blocked by rule "no deleting \/tmp\/x" \(high\): rm -rf \/tmp\/x; it was not sent\r\n$/);
  assert.deepEqual(
    [...first.judged.map((j) => [j.line, j.verdict]), ...r.judged],
    [
      ['echo one', 'pass'],
      ['rm -rf /tmp/x', 'block'],
      ['reboot', 'alert'],
      ['echo two', 'pass'],
    ],
  );
});

test('a last line without a newline is judged at EOF before it is sent', () => {
  assert.deepEqual(run(new StdinLineGuard({ rules }), ['echo a\nrm -rf /tmp/x']).judged, [
    ['echo a', 'pass'],
    ['rm -rf /tmp/x', 'block'],
  ]);
  const passing = run(new StdinLineGuard({ rules }), ['echo a\necho b']);
  assert.equal(passing.forwarded, 'echo a\necho b');
  const g = new StdinLineGuard({ rules });
  g.end();
  assert.equal(g.input(Buffer.from('rm -rf /tmp/x\n')).forward.length, 0, 'nothing after EOF');
});

test('a command split by backslash-newline is judged whole; NULs and CRs do not hide it', () => {
  const r = run(new StdinLineGuard({ rules }), ['rm -rf \\\n', '/tmp/x\n', 'r\0m -rf /tmp/x\r\n', 'echo "a\\\\"\n']);
  assert.deepEqual(r.judged, [
    ['rm -rf \\', 'pass'],
    ['rm -rf /tmp/x', 'block'],
    ['/tmp/x', 'pass'],
    ['rm -rf /tmp/x', 'block'],
    ['echo "a\\\\"', 'pass'],
  ]);
  assert.equal(r.forwarded, 'echo "a\\\\"\n', 'an escaped backslash does not continue the line');
});

test('a line over the cap is refused with a clear line, its rest dropped, and the next line judged as usual', () => {
  const g = new StdinLineGuard({ rules, maxLineBytes: 100 });
  const r = run(g, ['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(500), 'rm -rf /tmp/x\necho ok\n']);
  assert.equal(r.forwarded, 'echo ok\n');
  assert.match(r.said, /jmp: a line longer than 100 bytes cannot be checked; it was not sent/);
  assert.deepEqual(
    r.judged.map(([, v]) => v),
    ['block', 'pass'],
  );
  assert.match(r.judged[0]![0], /^x+y+…$/);
});

test('without rules (only when the operator allows it) lines pass as guard_skipped, each one reported', () => {
  const events: GuardEvent[] = [];
  const r = run(new StdinLineGuard({ rules: null, failOpen: true, onEvent: (e) => events.push(e) }), [
    'rm -rf /tmp/x\n\nls\n',
  ]);
  assert.equal(r.forwarded, 'rm -rf /tmp/x\n\nls\n');
  assert.deepEqual(r.judged, [
    ['rm -rf /tmp/x', 'skipped'],
    ['ls', 'skipped'],
  ]);
  assert.deepEqual(
    events.map((e) => e.type),
    ['guard_skipped', 'guard_skipped'],
  );
});

test('every byte of a large stream of short lines is forwarded in order, one chunk at a time', () => {
  const g = new StdinLineGuard({ rules });
  const text = Array.from({ length: 2000 }, (_, i) => `echo ${i}\n`).join('');
  const out: Buffer[] = [];
  for (let i = 0; i < text.length; i += 777) out.push(g.input(Buffer.from(text.slice(i, i + 777))).forward);
  out.push(g.end().forward);
  assert.equal(Buffer.concat(out).toString(), text);
});

test('without rules and without fail-open every line is refused', () => {
  const r = run(new StdinLineGuard({ rules: null }), ['ls\n']);
  assert.equal(r.forwarded, '');
  assert.match(r.said, /^jmp: the command rules could not be checked in time; the line was not sent: ls\r\n$/);
});

test('matching over the budget refuses the line (a slow matcher on an injected clock); fail-open lets it pass as skipped', () => {
  let t = 0;
  const slow = {
    mode: 'deny-list' as const,
    size: 1,
    match: () => {
      t += 100;
      return { verdict: 'pass' as const, rules: [] };
    },
  };
  const closed = run(new StdinLineGuard({ rules: slow, budgetMs: 50, now: () => t }), ['echo harmless\n']);
  assert.equal(closed.forwarded, '');
  assert.deepEqual(closed.judged, [['echo harmless', 'block']]);
  assert.match(closed.said, /could not be checked in time; the line was not sent/);
  const open = run(new StdinLineGuard({ rules: slow, budgetMs: 50, failOpen: true, now: () => t }), [
    'echo harmless\n',
  ]);
  assert.equal(open.forwarded, 'echo harmless\n');
  assert.deepEqual(open.judged, [['echo harmless', 'skipped']]);
});

test('quotes, $( ) and here-docs over lines are held until the shell would run them, judged whole, sent or dropped whole', () => {
  const q = compileRules([
    {
      id: 1,
      name: 'no deleting /tmp/x',
      pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
      action: 'block',
      severity: 'high',
      list: 'deny',
    },
    {
      id: 2,
      name: 'quoted',
      pattern: String.raw`\brm\s+-rf\s+"[^"]*/tmp/x`,
      action: 'block',
      severity: 'high',
      list: 'deny',
    },
  ]);
  for (const text of [
    'rm -rf "\n/tmp/x"\n',
    'echo $(rm -rf\n/tmp/x)\n',
    'sh <<EOF\nrm -rf /tmp/x\nEOF\n',
    "sh <<'E'\nrm -rf \\\n/tmp/x\nE\n",
  ]) {
    const g = new StdinLineGuard({ rules: q });
    const first = g.input(Buffer.from(text.slice(0, text.indexOf('\n') + 1)));
    assert.equal(first.forward.length, 0, `the first line of ${JSON.stringify(text)} is held`);
    const r = run(g, [text.slice(text.indexOf('\n') + 1), 'echo next\n']);
    assert.equal(r.forwarded, 'echo next\n', JSON.stringify(text));
    assert.match(r.said, /^jmp: blocked by rule/);
  }
  const ok = run(new StdinLineGuard({ rules: q }), ['cat <<EOF\nhello\n"world\nEOF\n']);
  assert.equal(ok.forwarded, 'cat <<EOF\nhello\n"world\nEOF\n');
  // An unclosed here-doc at EOF is judged and sent (the shell runs it with what it got).
  const eof = run(new StdinLineGuard({ rules: q }), ['sh <<EOF\nrm -rf /tmp/x\n']);
  assert.equal(eof.forwarded, '');
});
