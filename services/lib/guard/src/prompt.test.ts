// Prompt learning on a fake screen: PS1, PS2 and the command without its prompt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PromptLearner } from './prompt.js';

function setup() {
  const screen = {
    text: '',
    left: '',
    cursorLine() {
      return { text: this.text, left: this.left };
    },
  };
  const p = new PromptLearner(screen);
  return {
    p,
    /** The target drew `text`, with the cursor after `left` (default: at its end). */
    show: (text: string, left = text) => {
      screen.text = text;
      screen.left = left;
      p.output();
    },
  };
}

test('the prompt is learned at the first key and cut from the submitted line', () => {
  const { p, show } = setup();
  assert.equal(p.known, false);
  show('u@h:~$ ');
  p.learn();
  assert.equal(p.known, true);
  show('u@h:~$ ls -la ');
  assert.equal(p.command(), 'ls -la');
  p.submitted(false);
  assert.equal(p.known, false, 'learned again at the next line');
});

test('a continuation prompt (PS2) is learned like any other', () => {
  const { p, show } = setup();
  show('u@h:~$ ');
  p.learn();
  show('u@h:~$ rm -rf \\');
  assert.equal(p.command(), 'rm -rf \\');
  p.submitted(false);
  show('> ');
  p.learn();
  show('> /tmp/x');
  assert.equal(p.command(), '/tmp/x');
});

test('keys typed before the next prompt was drawn: the last prompt seen is looked for in the line', () => {
  const { p, show } = setup();
  show('u@h:~$ ');
  p.learn();
  show('u@h:~$ ls');
  assert.equal(p.command(), 'ls');
  p.submitted(false);
  p.learn(); // no output since the submission: the screen still shows the old line
  show('u@h:~$ pwd');
  assert.equal(p.command(), 'pwd');
});

test('no key typed since the submission: the text right of the cursor is the line (a program prompt)', () => {
  const { p, show } = setup();
  show('Continue? [y/N] y', 'Continue? [y/N] ');
  assert.equal(p.command(), 'y');
});

test('Ctrl-O keeps the prompt; fresh and forget drop it', () => {
  const { p, show } = setup();
  show('$ ');
  p.learn();
  p.submitted(true);
  assert.equal(p.known, true);
  p.fresh();
  assert.equal(p.known, false);
  p.learn();
  p.forget();
  assert.equal(p.known, false);
});
