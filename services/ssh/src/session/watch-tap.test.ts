import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient } from '@jmp/contract';
import { WATCH_NOTICE, WatchTap } from './watch-tap.js';

const log = { warn: () => {} };

test('output goes to the watcher only while watched; the notice once per watch when asked', async () => {
  const sent: string[] = [];
  const told: string[] = [];
  const api = {
    liveOutput: async (_id: string, chunks: string[]) => {
      sent.push(...chunks.map((c) => Buffer.from(c, 'base64').toString()));
    },
  } as unknown as ApiClient;
  const tap = new WatchTap('s1', api, log, (t) => told.push(t));
  tap.push(Buffer.from('before the watch '));
  tap.set({ notice: true });
  tap.set({ notice: true });
  assert.deepEqual(told, [WATCH_NOTICE], 'told once');
  tap.push(Buffer.from('seen '));
  tap.push(Buffer.from('twice'));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sent.join(''), 'seen twice');
  tap.set(null);
  tap.push(Buffer.from('after'));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sent.join(''), 'seen twice', 'nothing after the watch ended');
  tap.set({ notice: false });
  assert.equal(told.length, 1, 'a watch without notice tells nothing');
  tap.stop();
});
