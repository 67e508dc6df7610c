// The logical command behind physical lines: when the shell reads on, and
// what is judged for each line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogicalCommand } from './continuation.js';

/** Feeds the lines; returns [texts, complete] per line. */
function feed(lines: string[], c = new LogicalCommand()): Array<[string[], boolean]> {
  return lines.map((l) => {
    const r = c.feed(l);
    return [r.texts, r.complete];
  });
}

test('complete lines are judged alone; comments and escaped characters do not open anything', () => {
  assert.deepEqual(
    feed(['ls -la', 'echo \'a\' "b" $(date) `id` ${HOME}', 'echo \\" # it\'s a comment', 'echo a\\\\', '']),
    [
      [['ls -la'], true],
      [['echo \'a\' "b" $(date) `id` ${HOME}'], true],
      [['echo \\" # it\'s a comment'], true],
      [['echo a\\\\'], true],
      [[], true],
    ],
  );
});

test('a trailing backslash joins without a newline; the continuation is judged alone and joined', () => {
  assert.deepEqual(feed(['rm -rf \\', '/tmp/x']), [
    [['rm -rf \\'], false],
    [['rm -rf /tmp/x', '/tmp/x'], true],
  ]);
  assert.deepEqual(feed(['r\\', 'm -r\\', 'f /tmp/x']).at(-1), [['rm -rf /tmp/x', 'f /tmp/x'], true]);
});

test('open quotes, $( ), ${ }, ( ) and backticks read on; their newlines are kept', () => {
  assert.deepEqual(feed(['rm -rf "/tmp/x', '"']), [
    [['rm -rf "/tmp/x'], false],
    [['rm -rf "/tmp/x\n"', '"'], true],
  ]);
  assert.deepEqual(feed(["echo 'a", "b'"]).at(-1), [["echo 'a\nb'", "b'"], true]);
  assert.deepEqual(feed(['x=$(rm -rf', '/tmp/x)']).at(-1), [['x=$(rm -rf\n/tmp/x)', '/tmp/x)'], true]);
  assert.deepEqual(feed(['echo `rm', '-rf /tmp/x`']).at(-1)?.[1], true);
  assert.equal(feed(['(cd /', 'rm -rf x']).at(-1)?.[1], false);
  assert.equal(feed(['echo "$(echo ")")', 'x"']).at(-1)?.[1], true);
  assert.equal(feed(['echo "$(echo ")"', 'x"']).at(-1)?.[1], false, 'inside $( ) a quote opens anew');
  assert.equal(feed(["echo $'it\\'s", "'"]).at(-1)?.[1], true);
  // A backslash inside single quotes is not an escape, so it does not continue the line.
  assert.deepEqual(feed(["echo 'a\\'"]), [[["echo 'a\\'"], true]]);
});

test('a here-doc body is read as commands until its delimiter (quoted, <<-, several)', () => {
  assert.deepEqual(feed(['sh <<EOF', 'rm -rf /tmp/x', 'EOF', 'ls']), [
    [['sh <<EOF'], false],
    [['rm -rf /tmp/x'], false],
    [[], true],
    [['ls'], true],
  ]);
  // The body's own continuations are joined, as the shell reading it would.
  assert.deepEqual(
    feed(["sh <<'E'", 'rm -rf \\', '/tmp/x', 'E']).map(([t]) => t),
    [["sh <<'E'"], ['rm -rf \\'], ['/tmp/x', 'rm -rf /tmp/x'], []],
  );
  assert.deepEqual(
    feed(['cat <<-"A" <<B; echo', '\tx', '\tA', 'y', 'B']).map(([, c]) => c),
    [false, false, false, false, true],
  );
  assert.equal(feed(['cat <<<"here string"'])[0]![1], true);
});

test('the joined command is bounded: over it the command is refused and forgotten', () => {
  const c = new LogicalCommand(100);
  assert.equal(c.feed(`echo "${'a'.repeat(60)}`).overflow, false);
  const r = c.feed('b'.repeat(60));
  assert.equal(r.overflow, true);
  assert.equal(c.pending, false);
});

test('clone keeps the state apart (a submission judged before it is committed)', () => {
  const c = new LogicalCommand();
  c.feed('rm -rf \\');
  const d = c.clone();
  d.feed('/tmp/x');
  assert.equal(c.pending, true);
  assert.equal(d.pending, false);
  assert.deepEqual(c.feed('/tmp/y').texts, ['rm -rf /tmp/y', '/tmp/y']);
});
