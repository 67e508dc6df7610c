// The guard against byte sequences that reproduce what bash/readline echoes.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CommandGuard, CLEAR_LINE, type GuardEvent, type GuardResult } from './guard.js';
import { compileRules, type CompiledRules, type GuardRule } from './rules.js';
import { DEMO_RULES } from './demo-rules.js';
import { KeyReader } from './keys.js';

const PROMPT = 'u@h:~$ ';
const demo = compileRules(DEMO_RULES);

/** A guard with a fake clock, plus helpers that play the target's side. */
function setup(
  opts: {
    rules?: CompiledRules | null;
    cols?: number;
    rows?: number;
    budgetMs?: number;
    clockStep?: number;
    failOpen?: boolean;
  } = {},
) {
  let t = 0;
  const events: GuardEvent[] = [];
  const g = new CommandGuard({
    cols: opts.cols ?? 80,
    rows: opts.rows ?? 24,
    rules: opts.rules === undefined ? demo : opts.rules,
    budgetMs: opts.budgetMs,
    failOpen: opts.failOpen,
    onEvent: (e) => events.push(e),
    now: () => (t += opts.clockStep ?? 0),
  });
  const sent: Buffer[] = [];
  const results: GuardResult[] = [];
  const take = (r: GuardResult | null) => {
    if (r) {
      results.push(r);
      sent.push(r.forward);
    }
    return r;
  };
  return {
    g,
    events,
    results,
    sent: () => Buffer.concat(sent).toString('latin1'),
    key: (s: string) => take(g.input(Buffer.from(s, 'utf8')))!,
    out: (s: string) => take(g.output(Buffer.from(s, 'utf8'))),
    flush: () => take(g.flush()),
    advance: (ms: number) => {
      t += ms;
    },
    /** Types printable text with bash's echo (character by character). */
    type(s: string) {
      for (const ch of s) {
        this.key(ch);
        this.out(ch);
      }
    },
    judged: () => results.flatMap((r) => r.judged.map((j) => `${j.verdict}:${j.line}`)),
  };
}

test('an ordinary line: keys forwarded at once, Enter judged from the echo', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('ls -la');
  assert.equal(s.sent(), 'ls -la');
  const r = s.key('\r');
  assert.equal(r.hold, false);
  assert.equal(r.forward.toString(), '\r');
  assert.deepEqual(s.judged(), ['pass:ls -la']);
});

test('Enter before the echo arrived is held; the echo releases it; flush decides on timeout', () => {
  const s = setup();
  s.out(PROMPT);
  s.key('rm -rf /');
  const r = s.key('\r');
  assert.equal(r.hold, true);
  assert.ok(r.holdMs > 0);
  assert.equal(r.forward.length, 0);
  assert.equal(s.g.holding, true);
  // Keys typed meanwhile wait behind the held Enter.
  assert.equal(s.key('x').forward.length, 0);
  const rel = s.out('rm -rf /');
  assert.ok(rel);
  assert.equal(rel.blocked?.rule.id, 'demo-rm-root');
  assert.equal(rel.forward.toString(), CLEAR_LINE.toString());
  assert.match(
    rel.toUser.toString(),
    /^\r\njmp: blocked by rule "recursive delete of \/" \(critical\)\r\nu@h:~\$ rm -rf \/$/u,
  );
  assert.equal(s.g.holding, false);
  assert.equal(s.flush(), null);
  // Partial echo: still held; flush decides on what is on screen.
  s.out('\r\x1b[K' + PROMPT);
  s.key('echo hi');
  assert.equal(s.key('\r').hold, true);
  s.out('echo h');
  s.advance(10_000); // the proxy calls flush() when holdMs has passed
  const f = s.flush();
  assert.equal(f?.forward.toString(), '\r');
  assert.deepEqual(s.judged().at(-1), 'pass:echo h');
});

test('when several rules match any block wins and every match is reported', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('reboot; rm -rf /');
  const r = s.key('\r');
  assert.equal(r.blocked?.rule.id, 'demo-rm-root');
  assert.deepEqual(
    new Set(r.judged[0]?.rules.map((x) => x.id)),
    new Set(['demo-rm-root', 'demo-rm-recursive', 'demo-power']),
  );
  assert.equal(r.judged[0]?.rules[0]?.id, 'demo-rm-root');
});

test('tab completion and up-arrow history redraw are read from the screen', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('rm -r /bi');
  s.key('\t');
  s.out('n/ '); // completion of /bin
  assert.equal(s.key('\r').blocked, undefined);
  assert.deepEqual(s.judged(), ['alert:rm -r /bin/']);
  s.out('\r\n' + PROMPT);
  s.key('\x1b[A');
  s.out('\r\x1b[K' + PROMPT + 'rm -rf /');
  const r = s.key('\r');
  assert.equal(r.blocked?.line, 'rm -rf /');
});

test('a candidate list printed on double TAB is not taken for the command', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('rm -rf /tm');
  s.key('\t');
  s.out('\x07');
  s.key('\t');
  s.out('\r\ntmp/   tmpfs/  rm -rf /\r\n' + PROMPT + 'rm -rf /tm');
  s.type('p/x');
  s.key('\r');
  assert.deepEqual(s.judged(), ['alert:rm -rf /tmp/x']);
});

test('Ctrl-U, Ctrl-C and Ctrl-W discard what they discard', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('rm -rf /');
  s.key('\x15');
  s.out('\r\x1b[K' + PROMPT);
  s.type('ls');
  s.key('\r');
  s.out('\r\nfile\r\n' + PROMPT);
  s.type('rm -rf /');
  s.key('\x03');
  s.out('^C\r\n' + PROMPT);
  s.key('\r');
  s.out('\r\n' + PROMPT);
  s.type('echo rm -rf /');
  s.key('\x17');
  s.out('\b\x1b[K');
  s.key('\x17');
  s.out('\b\b\b\b\x1b[K');
  s.key('\r');
  assert.deepEqual(s.judged(), ['pass:ls', 'pass:echo rm']);
});

test('a multi-line paste (one chunk, several Enters) is judged whole before anything is sent', () => {
  const s = setup();
  s.out(PROMPT);
  const r = s.key('echo a\rrm -rf /\recho c\r');
  // The first part is sent and echoed, the rest waits for the verdict.
  assert.equal(r.forward.toString(), 'echo a');
  assert.equal(r.hold, true);
  const rel = s.out('echo a');
  assert.equal(rel?.blocked?.line, 'rm -rf /');
  assert.equal(rel?.forward.toString(), CLEAR_LINE.toString());
  assert.match(rel?.blocked?.message ?? '', /pasted block of 3 lines/u);
  assert.equal(s.sent(), 'echo a' + CLEAR_LINE.toString());
  // A harmless paste: every line judged, all of it sent at once.
  s.out('\r\x1b[K' + PROMPT);
  const ok = s.key('echo x\recho y\rpw');
  assert.equal(ok.hold, true);
  const rel2 = s.out('echo x');
  assert.equal(rel2?.forward.toString(), '\recho y\rpw');
  assert.deepEqual(
    rel2?.judged.map((j) => [j.line, j.source]),
    [
      ['echo x', 'screen'],
      ['echo y', 'input'],
    ],
  );
});

test('a bracketed paste split over chunks is judged before any of it is sent', () => {
  const s = setup();
  s.out(PROMPT);
  let r = s.key('\x1b[200~echo one\nrm -r');
  assert.equal(r.forward.length, 0);
  assert.equal(r.hold, true);
  r = s.key('f /\necho three\x1b[2');
  assert.equal(r.forward.length, 0);
  r = s.key('01~');
  assert.equal(r.blocked?.line, 'rm -rf /');
  assert.equal(r.forward.toString(), CLEAR_LINE.toString());
  // Without newline a bracketed paste is plain typing.
  s.out('\r\x1b[K' + PROMPT);
  r = s.key('\x1b[200~ls -l\x1b[201~');
  assert.equal(r.forward.toString(), '\x1b[200~ls -l\x1b[201~');
});

test('nothing is judged inside a full-screen program', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('vim');
  s.key('\r');
  s.out('\r\n\x1b[?1049h\x1b[H\x1b[2J~\r\n~');
  const r = s.key('irm -rf /\r:wq\r');
  assert.equal(r.forward.toString(), 'irm -rf /\r:wq\r');
  assert.equal(r.hold, false);
  s.out('\x1b[?1049l' + PROMPT);
  s.type('rm -rf /');
  assert.equal(s.key('\r').blocked?.line, 'rm -rf /');
  assert.deepEqual(s.judged(), ['pass:vim', 'block:rm -rf /']);
});

test('a line typed without echo (password) is not judged nor reported', () => {
  const s = setup();
  s.out('[sudo] password for u: ');
  s.key('rm -rf /');
  const r = s.key('\r');
  assert.equal(r.hold, true);
  s.advance(10_000);
  const f = s.flush();
  assert.equal(f?.forward.toString(), '\r');
  assert.deepEqual(f?.judged, []);
  assert.deepEqual(s.events, [{ type: 'unjudged', reason: 'no_echo' }]);
});

test('a pager prompt is never taken for a command, even in allow-list mode', () => {
  const rules: GuardRule[] = [
    { id: 1, name: 'cat', pattern: '^(cat|more) ', action: 'alert', severity: 'low', list: 'allow' },
  ];
  const s = setup({ rules: compileRules(rules, { mode: 'allow-list' }) });
  s.out(PROMPT);
  s.type('more /etc/services');
  assert.equal(s.key('\r').blocked, undefined);
  s.out('\r\nline\r\n\x1b[7m--More--(5%)\x1b[27m');
  const r = s.key('\r');
  assert.equal(r.forward.toString(), '\r');
  assert.deepEqual(r.judged, []);
  s.out('\rline2\x1b[K\r\n\x1b[7m--More--(6%)\x1b[27m');
  s.key('q');
  s.out('\r\x1b[K' + PROMPT);
  s.type('ls');
  const b = s.key('\r');
  assert.equal(b.blocked?.rule.id, 'allow-list');
  assert.equal(b.blocked?.message, 'jmp: blocked: it is not on the allow-list of this service');
  assert.deepEqual(s.judged(), ['pass:more /etc/services', 'block:ls']);
});

test('a command longer than 4 KiB wrapping over many rows is kept in full', () => {
  const s = setup({ cols: 80, rows: 24 });
  s.out(PROMPT);
  const line = `echo ${'x'.repeat(6000)} && rm -rf /`;
  s.key(line);
  // The echo arrives in chunks, as over SSH.
  for (let i = 0; i < line.length; i += 1000) s.out(line.slice(i, i + 1000));
  const r = s.key('\r');
  assert.equal(r.blocked?.line, line);
  assert.equal(r.judged[0]?.line.length, line.length);
});

test('the matching budget: over it the line is refused (not sent, cleared), even a line no rule blocks', () => {
  const s = setup({ budgetMs: 50, clockStep: 60 }); // every clock read advances 60 ms
  s.out(PROMPT);
  s.type('echo harmless');
  const r = s.key('\r');
  assert.equal(r.blocked?.rule.id, 'unchecked');
  assert.equal(r.blocked?.message, 'jmp: the command rules could not be checked in time; the line was not sent');
  assert.equal(r.forward.toString(), CLEAR_LINE.toString(), 'the Enter is not sent, the line is cleared');
  assert.deepEqual(s.judged(), ['block:echo harmless']);
  assert.equal(s.events.find((e) => e.type === 'guard_refused')?.type, 'guard_refused');
});

test('the matching budget with JMP_SSH_GUARD_FAIL_OPEN: over it the line passes as guard_skipped', () => {
  const s = setup({ budgetMs: 50, clockStep: 60, failOpen: true });
  s.out(PROMPT);
  s.type('rm -rf /');
  const r = s.key('\r');
  assert.equal(r.blocked, undefined);
  assert.equal(r.forward.toString(), '\r');
  assert.equal(r.judged[0]?.skipped, 'budget');
  const ev = s.events.find((e) => e.type === 'guard_skipped');
  assert.equal(ev?.type === 'guard_skipped' && ev.reason, 'budget');
});

test('a slow matcher under a real clock: the line is refused, not let through', () => {
  // The matcher itself advances the injected clock: no dependence on the machine's speed.
  let t = 0;
  const slow: CompiledRules = {
    mode: 'deny-list',
    size: 1,
    match: () => {
      t += 1000;
      return { verdict: 'pass', rules: [] };
    },
  };
  const g = new CommandGuard({ cols: 80, rows: 24, rules: slow, budgetMs: 50, now: () => t });
  g.output(Buffer.from(PROMPT));
  for (const ch of 'ls') {
    g.input(Buffer.from(ch));
    g.output(Buffer.from(ch));
  }
  const r = g.input(Buffer.from('\r'));
  assert.equal(r.blocked?.rule.id, 'unchecked');
  assert.equal(r.forward.toString(), CLEAR_LINE.toString());
});

test('without rules every line is refused; with fail-open it passes with guard_skipped; setRules arms the guard', () => {
  const closed = setup({ rules: null });
  closed.out(PROMPT);
  closed.type('ls');
  assert.equal(closed.key('\r').blocked?.rule.id, 'unchecked');
  const s = setup({ rules: null, failOpen: true });
  s.out(PROMPT);
  s.type('rm -rf /');
  assert.equal(s.key('\r').judged[0]?.skipped, 'no_rules');
  assert.equal(s.events[0]?.type, 'guard_skipped');
  s.g.setRules(demo);
  s.out('\r\n' + PROMPT);
  s.type('rm -rf /');
  assert.equal(s.key('\r').blocked?.line, 'rm -rf /');
});

test('resize follows the user; wrapped lines are re-read; dispose is idempotent', () => {
  const s = setup({ cols: 20, rows: 5 });
  s.out(PROMPT);
  s.type('ls');
  s.key('\r');
  s.out('\r\n' + PROMPT);
  s.g.resize(30, 10);
  s.type('echo 0123456789012345 ; rm -rf /');
  assert.equal(s.key('\r').blocked?.line, 'echo 0123456789012345 ; rm -rf /');
  s.g.dispose();
  s.g.dispose();
  assert.equal(s.g.output(Buffer.from('x')), null);
});

test('bulk output is not parsed in full but keeps the alternate-screen state', () => {
  const s = setup();
  s.out(PROMPT);
  s.type('cat big');
  s.key('\r');
  const chunk = 'y'.repeat(79) + '\r\n';
  const t0 = performance.now();
  for (let i = 0; i < 20_000; i++) s.out(chunk); // 1.6 MB
  assert.ok(performance.now() - t0 < 2000);
  s.out('\x1b[?1049h');
  for (let i = 0; i < 5000; i++) s.out(chunk);
  assert.equal(s.key('rm -rf /\r').forward.toString(), 'rm -rf /\r'); // in the alternate screen: not judged
});

test('the key reader splits keys and keeps bytes exact', () => {
  const r = new KeyReader();
  const keys = r.push(Buffer.from('a\x1b[Ab\x7f\x1bOA\x1bb\rü\x03'));
  assert.deepEqual(
    keys.map((k) => k.kind),
    ['text', 'escape', 'text', 'control', 'escape', 'escape', 'enter', 'text', 'control'],
  );
  assert.equal(Buffer.concat(keys.map((k) => k.bytes)).toString(), 'a\x1b[Ab\x7f\x1bOA\x1bb\rü\x03');
  // UTF-8 split across chunks and a paste end marker split across chunks.
  const u = Buffer.from('é');
  assert.equal(r.push(u.subarray(0, 1))[0]?.kind, 'text');
  assert.equal((r.push(u.subarray(1))[0] as { text: string }).text, 'é');
  assert.deepEqual(r.push(Buffer.from('\x1b[200~x\ny\x1b[20')), []);
  const p = r.push(Buffer.from('1~z'));
  assert.equal(p[0]?.kind, 'paste');
  assert.equal((p[0] as { text: string }).text, 'x\ny');
  assert.equal(p[1]?.kind, 'text');
});

describe('a command continued over lines is judged whole (PS2)', () => {
  const x = compileRules([
    {
      id: 1,
      name: 'no deleting /tmp/x',
      pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
      action: 'block',
      severity: 'high',
      list: 'deny',
    },
    // A newline in quotes is part of the word: only a rule that allows it matches a quote over lines.
    {
      id: 2,
      name: 'no deleting a quoted /tmp/x',
      pattern: String.raw`\brm\s+-rf\s+"[^"]*/tmp/x`,
      action: 'block',
      severity: 'high',
      list: 'deny',
    },
  ]);
  /** Submits each line at the prompt bash would show (PS1 first, then PS2 while the command goes on). */
  function lines(s: ReturnType<typeof setup>, ls: string[]): GuardResult[] {
    return ls.map((l, i) => {
      s.out(i === 0 ? PROMPT : '\r\n> ');
      s.type(l);
      return s.key('\r');
    });
  }
  const cases: Array<[string, string[]]> = [
    ['a trailing backslash', ['rm -rf \\', '/tmp/x']],
    ['an unclosed quote', ['rm -rf "', '/tmp/x"']],
    ['$( ) over lines', ['echo $(rm -rf', '/tmp/x)']],
    ['backticks over lines', ['echo `rm -rf', '/tmp/x`']],
    ['a here-doc body for a shell', ['sh <<EOF', 'rm -rf /tmp/x', 'EOF']],
    ['a backslash inside a quoted here-doc body', ["sh <<'EOF'", 'rm -rf \\', '/tmp/x', 'EOF']],
  ];
  for (const [name, ls] of cases) {
    test(`${name}: the earlier Enters pass, the line completing the command is blocked and the shell's lines discarded`, () => {
      const s = setup({ rules: x });
      const rs = lines(s, ls);
      const blockAt = rs.findIndex((r) => r.blocked);
      assert.ok(blockAt > 0, `blocked: ${JSON.stringify(s.judged())}`);
      rs.slice(0, blockAt).forEach((r) =>
        assert.equal(r.forward.toString(), '\r', 'an incomplete line only makes the shell read on'),
      );
      // Ctrl-E Ctrl-U clears the line, Ctrl-C drops what the shell holds of the command.
      assert.equal(rs[blockAt]!.forward.toString(), `${CLEAR_LINE.toString()}\x03`);
      // After the block the next command stands alone again.
      s.out('^C\r\n' + PROMPT);
      s.type('/tmp/x');
      assert.equal(s.key('\r').blocked, undefined);
    });
  }

  test('complete lines keep the old behaviour: judged alone, no Ctrl-C on a block', () => {
    const s = setup({ rules: x });
    const [a, b] = lines(s, ['echo "a" \\\\', 'rm -rf /tmp/x']);
    assert.equal(a!.forward.toString(), '\r');
    assert.equal(b!.forward.toString(), CLEAR_LINE.toString());
    assert.deepEqual(s.judged(), ['pass:echo "a" \\\\', 'block:rm -rf /tmp/x']);
  });

  test('the pending command is bounded: a continuation beyond it is refused', () => {
    const s = setup({ rules: x });
    const g = new CommandGuard({ cols: 200, rows: 24, rules: x, maxPendingBytes: 50, now: () => 0 });
    void s;
    const say = (t: string) => g.output(Buffer.from(t));
    const typeLine = (t: string) => {
      for (const ch of t) {
        g.input(Buffer.from(ch));
        say(ch);
      }
      return g.input(Buffer.from('\r'));
    };
    say(PROMPT);
    assert.equal(typeLine('echo "' + 'a'.repeat(30)).forward.toString(), '\r');
    say('\r\n> ');
    const r = typeLine('b'.repeat(30));
    assert.equal(r.blocked?.rule.id, 'continued-limit');
    assert.equal(r.forward.toString(), `${CLEAR_LINE.toString()}\x03`);
  });
});
