import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import { eventLine, formatTime, headerLine, parseLine, Utf8Stream } from './asciicast.js';
import { SyncFlushGzip } from './gzip-stream.js';
import { inflateLines, repairPart } from './reader.js';
import { noise } from '../test/testing.js';

test('event lines are valid JSON with escaped control characters', () => {
  const line = eventLine(formatTime(1234.5678), 'o', '\x1b[1mhi\r\n"q"\\');
  assert.equal(line, '[1.234568, "o", "\\u001b[1mhi\\r\\n\\"q\\"\\\\"]\n');
  assert.deepEqual(parseLine(line), [1.234568, 'o', '\x1b[1mhi\r\n"q"\\']);
  const h = headerLine({ version: 2, width: 80, height: 24, timestamp: 1700000000, env: { TERM: 'xterm' } });
  assert.deepEqual(parseLine(h), { version: 2, width: 80, height: 24, timestamp: 1700000000, env: { TERM: 'xterm' } });
  assert.throws(() => parseLine('[1, "x", "y"]'));
});

test('a multi-byte character split across chunks is decoded whole', () => {
  const bytes = Buffer.from('a€b😀c', 'utf8');
  const u = new Utf8Stream();
  let out = '';
  for (const b of bytes) out += u.write(Uint8Array.of(b)); // one byte at a time
  out += u.end();
  assert.equal(out, 'a€b😀c');
  const bad = new Utf8Stream();
  assert.equal(bad.write(Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82])) + bad.end(), 'a\ufffdb\ufffd');
});

test('ASCII chunks between split characters and invalid bytes decode as the whole stream would', () => {
  const chunks = [[0x61, 0x62], [0xe2, 0x82], [0xac, 0x63], [0x64], [0xf0, 0x9f], [0x65], [0x66], [0xff], [0x67]];
  const u = new Utf8Stream();
  let out = '';
  for (const c of chunks) out += u.write(Uint8Array.from(c));
  out += u.end();
  const whole = new TextDecoder('utf-8', { ignoreBOM: true }).decode(Uint8Array.from(chunks.flat()));
  assert.equal(out, whole);
  assert.equal(out, 'ab€cd\ufffdef\ufffdg');
});

test('gzip cut right after any sync flush inflates to everything flushed so far', async () => {
  const gz = new SyncFlushGzip(6);
  const a = await gz.push(Buffer.from('first flush\n'));
  const b = await gz.push(Buffer.from('second flush\n'));
  const tail = await gz.end();
  assert.deepEqual([...a.subarray(-4)], [0, 0, 0xff, 0xff]);
  const opts = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  assert.equal(zlib.gunzipSync(a, opts).toString(), 'first flush\n');
  assert.equal(zlib.gunzipSync(Buffer.concat([a, b]), opts).toString(), 'first flush\nsecond flush\n');
  // With the trailer it is an ordinary gzip file.
  assert.equal(zlib.gunzipSync(Buffer.concat([a, b, tail])).toString(), 'first flush\nsecond flush\n');
});

test('a part cut inside a flush yields its complete lines and is repaired with a marker', async () => {
  const gz = new SyncFlushGzip(6);
  const head = await gz.push(
    Buffer.from(headerLine({ version: 2, width: 80, height: 24, timestamp: 1 }) + eventLine('0.5', 'o', 'kept')),
  );
  const cut = await gz.push(Buffer.from(eventLine('0.7', 'o', noise(5000))));
  const data = Buffer.concat([head, cut.subarray(0, cut.length >> 1)]);
  const problems: string[] = [];
  const lines: string[] = [];
  for await (const l of inflateLines(Readable.from([data]), (p) => problems.push(p))) lines.push(l);
  assert.equal(lines.length, 2);
  assert.equal(problems.length, 1);
  const fixed = (await repairPart(data))!;
  const text = zlib.gunzipSync(fixed).toString(); // now a complete gzip
  assert.match(text, /"kept"\]\n\[0\.500000, "m", "recording_interrupted/);
  assert.equal(await repairPart(Buffer.alloc(0)), null);
});

test('NUL bytes are left out of recorded output (a terminal ignores them); everything else is kept', async () => {
  const { withoutNul } = await import('./recorder.js');
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.deepEqual(Buffer.from(withoutNul(b('abc'))), b('abc'));
  assert.deepEqual(Buffer.from(withoutNul(b('\0\0a\0b\0\0\0c\0'))), b('abc'));
  assert.equal(withoutNul(Buffer.alloc(65536)).length, 0);
  const mixed = Buffer.from('é\0€\x1b[0m\0', 'utf8');
  assert.equal(Buffer.from(withoutNul(mixed)).toString('utf8'), 'é€\x1b[0m');
});
