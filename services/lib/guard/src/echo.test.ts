// Echo tracking on a fake screen: what the person typed against what the target echoed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EchoTracker } from './echo.js';
import { KeyReader, type Key } from './keys.js';

function setup() {
  const screen = {
    left: 'u@h:~$ ',
    cursorLine() {
      return { text: this.left, left: this.left };
    },
  };
  let t = 0;
  const echo = new EchoTracker(screen, () => t);
  const keys = (s: string): Key[] => new KeyReader().push(Buffer.from(s));
  return {
    echo,
    screen,
    advance: (ms: number) => {
      t += ms;
    },
    type: (s: string) => {
      for (const k of keys(s)) echo.typed(k);
    },
    /** The target writes output that leaves `left` left of the cursor. */
    show: (left: string) => {
      screen.left = left;
      return echo.output();
    },
  };
}

test('typed text is settled when the screen shows it after the prompt; the round trip is measured', () => {
  const s = setup();
  assert.equal(s.echo.settled(), true);
  s.type('ls');
  assert.equal(s.echo.awaiting, true);
  assert.equal(s.echo.settled(), false, 'no output yet');
  s.advance(30);
  assert.equal(s.show('u@h:~$ l'), null, 'half the echo');
  assert.equal(s.echo.settled(), false);
  s.advance(10);
  assert.equal(s.show('u@h:~$ ls'), 40);
  assert.equal(s.echo.awaiting, false);
  assert.equal(s.echo.settled(), true);
});

test('keys the target redraws for need as many outputs and the later text at the cursor; no round trip sample', () => {
  const s = setup();
  s.type('\x1b[A'); // history up
  s.type('x');
  assert.equal(s.show('u@h:~$ ls'), null);
  assert.equal(s.echo.settled(), false, 'the redraw came, not the x');
  assert.equal(s.show('u@h:~$ lsx'), null, 'settled, but no plain-text sample');
  assert.equal(s.echo.awaiting, false);
});

test('text that never appears on a silent screen is told apart: the target reads without echo', () => {
  const s = setup();
  s.type('secret');
  assert.equal(s.echo.unechoed(), true);
  s.show('u@h:~$ ');
  assert.equal(s.echo.unechoed(), false, 'the target answered: slow or consumed, not silent');
});

test('keys the target consumed (a pager) are dropped: tracking starts afresh from the screen', () => {
  const s = setup();
  s.screen.left = ':';
  s.type('q');
  s.show('$ '); // the pager quit and a prompt came back
  s.type('l');
  s.show('$ l');
  assert.equal(s.echo.settled(), true);
});

test('after the guard cleared a line, the redraw is awaited; reset forgets everything', () => {
  const s = setup();
  s.echo.cleared();
  assert.equal(s.echo.awaiting, true);
  assert.equal(s.echo.settled(), false);
  s.show('u@h:~$ ');
  assert.equal(s.echo.settled(), true);
  s.type('abc');
  s.echo.reset();
  assert.equal(s.echo.awaiting, false);
  assert.equal(s.echo.settled(), true);
});

test('a long run keeps only its tail for the comparison (the start of a long line may be gone from the screen)', () => {
  const s = setup();
  s.type('a'.repeat(5000));
  s.show('a'.repeat(3000));
  assert.equal(s.echo.awaiting, false, 'settled on the tail alone');
});
