// Hold timing on an injected clock: how long a submission waits for its echo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HoldClock } from './hold.js';

function setup(opts: { minHoldMs?: number; maxHoldMs?: number } = {}) {
  let t = 1000;
  const clock = new HoldClock({ ...opts, now: () => t });
  return {
    clock,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

test('the quiet time is four echo round trips plus 50 ms, within 150..1500 ms', () => {
  const { clock } = setup();
  assert.equal(clock.holdMs(), 250, '50 ms assumed before any sample');
  for (let i = 0; i < 50; i++) clock.sample(0);
  assert.equal(clock.holdMs(), 150);
  for (let i = 0; i < 50; i++) clock.sample(2000);
  assert.equal(clock.holdMs(), 1500);
  assert.equal(new HoldClock({ minHoldMs: 400, maxHoldMs: 100, now: () => 0 }).maxHoldMs, 400, 'max is at least min');
});

test('a hold is due after the quiet time; output during it starts the quiet time again', () => {
  const { clock, advance } = setup();
  assert.equal(clock.holding, false);
  assert.equal(clock.due(), false, 'nothing held');
  assert.equal(clock.hold(), 250);
  assert.equal(clock.holding, true);
  advance(200);
  assert.equal(clock.due(), false);
  assert.equal(clock.hold(), 50, 'the same hold goes on: the rest of its time');
  clock.progress();
  advance(200);
  assert.equal(clock.due(), false);
  advance(50);
  assert.equal(clock.due(), true);
  clock.release();
  assert.equal(clock.holding, false);
  assert.equal(clock.due(), false);
});

test('output that keeps arriving cannot hold a submission past maxHoldMs', () => {
  const { clock, advance } = setup({ maxHoldMs: 600 });
  clock.hold();
  for (let i = 0; i < 5; i++) {
    advance(100);
    clock.progress();
  }
  assert.equal(clock.due(), false);
  assert.equal(clock.hold(), 100, 'bounded by the maximum, not the quiet time');
  advance(100);
  assert.equal(clock.due(), true);
  assert.equal(clock.hold(), 1, 'never less than 1 ms');
});
