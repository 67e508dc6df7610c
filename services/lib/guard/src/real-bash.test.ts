// The corpus against a real `bash -i` under a pty, driven through the guard.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileRules } from './rules.js';
import { DEMO_RULES } from './demo-rules.js';
import { RealBash, bashAvailable, sleep } from '../test/test-support.js';

const RULES = compileRules([
  ...DEMO_RULES,
  {
    id: 'victim',
    name: 'recursive delete of victim-dir',
    pattern: String.raw`rm\s+-r\S*\s+victim-dir`,
    action: 'block',
    severity: 'high',
    list: 'deny',
  },
]);
const skip = !bashAvailable() && 'bash is not available';

async function session(
  fn: (b: RealBash) => Promise<void>,
  opts: { history?: string[]; cols?: number; rows?: number; rules?: typeof RULES } = {},
): Promise<void> {
  const b = new RealBash(opts.rules ?? RULES, opts);
  try {
    await b.prompt(0);
    await fn(b);
  } finally {
    await b.close();
  }
}

/** Types a command and Enter without waiting for a prompt (a program takes over). */
async function start(b: RealBash, typed: string): Promise<void> {
  await b.typeSlowly(typed);
  b.type('\r');
  await b.until(() => !b.guard.holding);
}

async function submit(b: RealBash, typed: string, slowly = true): Promise<void> {
  const at = b.raw.length;
  if (slowly) await b.typeSlowly(typed);
  else b.type(typed);
  const mark = Math.max(at, b.raw.length);
  const blocks = b.blocks().length;
  b.type('\r');
  // A fresh prompt, or (blocked) the target's redraw of the cleared line.
  await b.until(() => !b.guard.holding && (/jmp\$ $/u.test(b.raw.slice(mark)) || b.blocks().length > blocks));
  await b.quiet(100);
}

describe('real bash through the guard', { skip }, () => {
  test('rm -rf / typed: blocked, cleared on the target, never run', () =>
    session(async (b) => {
      await submit(b, 'rm -rf /');
      assert.deepEqual(b.blocks(), ['rm -rf /']);
      assert.match(b.raw, /jmp: blocked by rule "recursive delete of \/" \(critical\)/u);
      await submit(b, 'echo after');
      assert.deepEqual(b.ran(), []);
      assert.match(b.raw, /\rafter\r\n/u);
      // The cleared line did not leak into the next one.
      assert.equal(b.judgedLines().at(-1), 'echo after');
    }));

  test('\\rm -rf /, ls; rm -rf /, /bin/rm -rf / and rm -r -f /', () =>
    session(async (b) => {
      for (const l of ['\\rm -rf /', 'ls; rm -rf /', '/bin/rm -rf /', 'rm -r -f /']) await submit(b, l);
      assert.deepEqual(b.blocks(), ['\\rm -rf /', 'ls; rm -rf /', '/bin/rm -rf /', 'rm -r -f /']);
      assert.deepEqual(b.ran(), []);
    }));

  test('rm -r completed with TAB, then the same recalled with the up arrow', () =>
    session(
      async (b) => {
        await submit(b, 'rm -r vic\t');
        assert.deepEqual(b.blocks(), ['rm -r victim-dir/']);
        await submit(b, '\x1b[A', false); // history -s put it there
        assert.deepEqual(b.blocks(), ['rm -r victim-dir/', 'rm -rf /']);
        assert.deepEqual(b.ran(), []);
      },
      { history: ['rm -rf /'] },
    ));

  test('an edited line: typed, cursor moved, corrected', () =>
    session(async (b) => {
      // "rx -rf /", Ctrl-A, Ctrl-F, Ctrl-D deletes the x, "m" makes it "rm -rf /".
      await submit(b, 'rx -rf /\x01\x06\x04m');
      assert.deepEqual(b.blocks(), ['rm -rf /']);
      await submit(b, 'echo ok  X\x1b[D\x1b[D\x1b[D\x7fZ');
      assert.equal(b.judgedLines().at(-1), 'echo oZ  X');
      assert.deepEqual(b.ran(), []);
    }));

  test('Ctrl-U and Ctrl-C discard the line', () =>
    session(async (b) => {
      await submit(b, 'rm -rf /\x15echo one');
      const at = b.raw.length;
      await b.typeSlowly('rm -rf /');
      b.type('\x03');
      await b.prompt(at);
      await submit(b, 'echo two');
      assert.deepEqual(b.blocks(), []);
      assert.deepEqual(b.judgedLines(), ['echo one', 'echo two']);
      assert.match(b.raw, /\rone\r\n[\s\S]*\rtwo\r\n/u);
    }));

  test('a pasted multi-line block is judged whole before any of it is sent', () =>
    session(async (b) => {
      const at = b.raw.length;
      b.type('echo first\rrm -rf /\recho third\r');
      await b.until(() => b.blocks().length === 1);
      await sleep(300);
      assert.doesNotMatch(b.raw.slice(at), /[\r\n]first\r\n|[\r\n]third\r\n/u);
      assert.match(b.results.at(-1)?.blocked?.message ?? b.raw, /pasted block of 3 lines/u);
      // Bracketed paste (bash enables it).
      b.type('\x1b[200~echo one\nrm -rf /\necho three\n\x1b[201~');
      await b.until(() => b.blocks().length === 2);
      await sleep(300);
      assert.doesNotMatch(b.raw.slice(at), /[\r\n]one\r\n|[\r\n]three\r\n/u);
      // A harmless paste goes through, every line judged.
      const at2 = b.raw.length;
      b.type('echo p1\recho p2\r');
      await b.until(() => /p2\r\n[\s\S]*jmp\$ $/u.test(b.raw.slice(at2)));
      assert.deepEqual(b.judgedLines().slice(-2), ['echo p1', 'echo p2']);
      assert.deepEqual(b.ran(), []);
    }));

  test('tab-completion candidates and the more pager are never taken for commands', () =>
    session(async (b) => {
      const at = b.raw.length;
      b.type('ls a');
      for (let i = 0; i < 4 && !/ab1\s+ab2/u.test(b.raw.slice(at)); i++) {
        b.type('\t');
        await sleep(150);
      }
      await b.until(() => /ab1\s+ab2/u.test(b.raw.slice(at)));
      await sleep(100);
      await submit(b, '1');
      assert.equal(b.judgedLines().at(-1), 'ls ab1');
      const at2 = b.raw.length;
      await start(b, 'more long.txt');
      await b.until(() => /--More--/u.test(b.raw.slice(at2)));
      const n = b.judgedLines().length;
      b.type('\r');
      await sleep(200);
      b.type(' ');
      await sleep(200);
      b.type('q');
      await b.prompt(b.raw.length - 1).catch(() => {});
      await submit(b, 'echo back');
      assert.deepEqual(b.judgedLines().slice(n), ['echo back']);
    }));

  test('nothing typed inside vim is judged', () =>
    session(async (b) => {
      await start(b, 'vim -u NONE -N');
      await b.until(() => b.raw.includes('\x1b[?1049h'));
      b.type('irm -rf /\rrm -rf /');
      b.type('\x1b');
      await sleep(100);
      const at = b.raw.length;
      b.type(':q!\r');
      await b.prompt(at);
      assert.deepEqual(b.blocks(), []);
      assert.deepEqual(b.judgedLines(), ['vim -u NONE -N']);
      await submit(b, 'rm -rf /');
      assert.deepEqual(b.blocks(), ['rm -rf /']);
    }));

  test('a line read with echo off (password) is not judged', () =>
    session(async (b) => {
      await start(b, 'read -s -p Password: pw');
      await b.until(() => b.raw.endsWith('Password:'));
      const at = b.raw.length;
      await b.typeSlowly('rm -rf /');
      b.type('\r');
      await b.prompt(at);
      assert.deepEqual(b.blocks(), []);
      assert.deepEqual(b.judgedLines(), ['read -s -p Password: pw']);
      assert.ok(b.events.some((e) => e.type === 'unjudged'));
    }));

  test('a line over 4 KiB wrapping across many rows is judged in full', () =>
    session(
      async (b) => {
        const ok = `echo ${'b'.repeat(4500)} end`;
        await submit(b, ok, false);
        assert.equal(b.judgedLines().at(-1), ok);
        const long = `echo ${'a'.repeat(5000)} ; rm -rf /`;
        await submit(b, long, false);
        assert.deepEqual(b.blocks(), [long]);
        assert.deepEqual(b.ran(), []);
      },
      { cols: 80, rows: 24 },
    ));

  test('a command continued at PS2 (backslash, quote, here-doc for sh) is judged whole; bash drops the held lines', () =>
    session(async (b) => {
      const ps2 = async (typed: string) => {
        const at = b.raw.length;
        await b.typeSlowly(typed);
        b.type('\r');
        await b.until(() => !b.guard.holding && /> $/u.test(b.raw.slice(at)));
      };
      await ps2('rm -r \\');
      await submit(b, 'victim-dir');
      await ps2('echo "one');
      await ps2('two"; rm -rf vi\\');
      await submit(b, 'ctim-dir');
      await ps2('sh <<EOF');
      await submit(b, 'rm -rf victim-dir');
      assert.deepEqual(b.blocks(), ['rm -r victim-dir', 'echo "one\ntwo"; rm -rf victim-dir', 'rm -rf victim-dir']);
      // Ctrl-C discarded what bash held: the next line is a command of its own, and nothing was run.
      await submit(b, 'echo after');
      assert.match(b.raw, /\rafter\r\n/u);
      assert.deepEqual(b.ran(), []);
    }));
});
