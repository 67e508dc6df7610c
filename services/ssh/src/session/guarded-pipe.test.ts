// Back-pressure of the session pipe, with node streams standing in for the two
// SSH channels (ssh2's channels are Duplex streams with a `stderr` side): a
// person's client that stops reading, or a recorder that falls behind, pauses
// the target instead of buffering its output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough, Writable } from 'node:stream';
import type { ClientChannel, ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import { GuardedPipe } from './guarded-pipe.js';
import type { SessionRecording } from '@jmp/recording';

/** The person's side: a writable whose consumer can be stopped (a client that does not read). */
function personChannel() {
  let open = false;
  let got = 0;
  const waiting: Array<() => void> = [];
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      got += chunk.length;
      if (open) cb();
      else waiting.push(cb);
    },
  });
  const ch = Object.assign(new Duplex({ read() {}, write: (c, e, cb) => sink.write(c, e, cb) }), {
    stderr: new PassThrough(),
  });
  // writableNeedDrain of the channel mirrors the sink.
  Object.defineProperty(ch, 'writableNeedDrain', { get: () => sink.writableNeedDrain });
  sink.on('drain', () => ch.emit('drain'));
  ch.write = ((c: Buffer) => sink.write(c)) as typeof ch.write;
  return {
    ch: ch as unknown as ServerChannel,
    received: () => got,
    buffered: () => sink.writableLength,
    open() {
      open = true;
      for (const cb of waiting.splice(0)) cb();
    },
  };
}

/** The target's side: a readable that produces as long as it is not paused. */
function targetChannel() {
  const ch = Object.assign(new PassThrough(), { stderr: new PassThrough() });
  return ch as unknown as ClientChannel & PassThrough;
}

function recorder(backlog: () => number): SessionRecording & { bytes: number } {
  const r = {
    bytes: 0,
    uri: 'test://',
    get backlogBytes() {
      return backlog();
    },
    output(d: Uint8Array) {
      r.bytes += d.length;
    },
    input() {},
    resize() {},
    marker() {},
    close: async () => ({ uri: 'test://', parts: 0, bytes: 0, truncated: false, complete: true, reason: 'test' }),
  };
  return r as unknown as SessionRecording & { bytes: number };
}

const quietLog = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const api = { commands: async () => {} } as unknown as ApiClient;
const chunk = Buffer.alloc(32 * 1024, 0x61);

/** Writes chunks into the target side while it accepts them (not paused), at most `max` bytes. */
async function produce(remote: PassThrough, max: number): Promise<number> {
  let sent = 0;
  while (sent < max) {
    if (remote.isPaused()) break;
    remote.write(chunk);
    sent += chunk.length;
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

test('a person who stops reading pauses the target: output is not buffered without bound, and flows again after', async () => {
  const person = personChannel();
  const remote = targetChannel();
  const rec = recorder(() => 0);
  const pipe = new GuardedPipe({
    sessionId: 's1',
    api,
    log: quietLog,
    channel: person.ch,
    remote,
    guard: null,
    rec,
    touch() {},
  });
  try {
    const sent = await produce(remote, 64 * 1024 * 1024);
    assert.ok(remote.isPaused(), 'the target channel is paused');
    assert.ok(sent < 1024 * 1024, `the target was stopped early: ${sent} bytes`);
    assert.ok(person.buffered() <= 512 * 1024, `bounded buffer towards the person: ${person.buffered()}`);
    assert.ok(pipe.pauses >= 1);
    person.open();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(remote.isPaused(), false, 'resumed once the person read again');
    assert.equal(rec.bytes, pipe.bytesOut, 'everything the person got was recorded');
  } finally {
    await pipe.close();
  }
});

test('a recorder that falls behind pauses the target until its backlog is below a quarter of the high-water mark', async () => {
  const person = personChannel();
  person.open();
  const remote = targetChannel();
  let backlog = 0;
  const rec = recorder(() => backlog);
  const pipe = new GuardedPipe({
    sessionId: 's2',
    api,
    log: quietLog,
    channel: person.ch,
    remote,
    guard: null,
    rec,
    touch() {},
    recordingHighWater: 1024 * 1024,
  });
  try {
    backlog = 2 * 1024 * 1024;
    await produce(remote, 1024 * 1024);
    assert.ok(remote.isPaused(), 'paused while the recorder is behind');
    backlog = 400 * 1024; // above a quarter (256 KiB): still paused
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(remote.isPaused());
    backlog = 100 * 1024;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(remote.isPaused(), false, 'resumed when the recorder caught up');
  } finally {
    await pipe.close();
  }
});
