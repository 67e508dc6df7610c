import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createServer, connect, type Socket } from 'node:net';
import { TelnetChannel, OPTION_FLOOD_PER_SECOND } from './telnet-channel.js';
import { appendedAlgorithms, hostKeyLine } from './ssh-device.js';

const IAC = 255;
const DO = 253;
const WILL = 251;
const SB = 250;
const SE = 240;
const NAWS = 31;

/** A loopback connection: `device` is the device's side, `ch` jmp-ssh's. */
async function pair(
  cols = 80,
  rows = 24,
): Promise<{ device: Socket; ch: TelnetChannel; got: () => Buffer; close: () => void }> {
  let device!: Socket;
  const srv = createServer((s) => (device = s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const sock = connect((srv.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  while (!device) await new Promise((r) => setTimeout(r, 5));
  let got = Buffer.alloc(0);
  device.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  const ch = new TelnetChannel(sock, { cols, rows, term: 'xterm' });
  return { device, ch, got: () => got, close: () => (sock.destroy(), srv.close()) };
}
const settle = () => new Promise((r) => setTimeout(r, 100));

test('DO NAWS is answered once with WILL and the size; 255 is escaped; a resize sends the new size', async () => {
  const p = await pair(255, 40);
  p.device.write(Buffer.from([IAC, DO, NAWS, IAC, DO, NAWS, IAC, DO, NAWS]));
  await settle();
  const sub = Buffer.from([IAC, SB, NAWS, 0, 255, 255, 0, 40, IAC, SE]);
  assert.deepEqual(p.got(), Buffer.concat([Buffer.from([IAC, WILL, NAWS]), sub]), 'one WILL, one size, 255 doubled');
  p.ch.setWindow(50, 132);
  await settle();
  assert.ok(
    p
      .got()
      .subarray(3 + sub.length)
      .equals(Buffer.from([IAC, SB, NAWS, 0, 132, 0, 50, IAC, SE])),
  );
  p.close();
});

test('0xFF is escaped on the way out and unescaped on the way in; unknown options are refused once', async () => {
  const p = await pair();
  let seen = Buffer.alloc(0);
  p.ch.on('data', (d: Buffer) => (seen = Buffer.concat([seen, d])));
  p.ch.write(Buffer.from([0x61, 0xff, 0x62]));
  p.device.write(Buffer.from([0x78, IAC, IAC, 0x79, IAC, DO, 99, IAC, DO, 99]));
  await settle();
  assert.deepEqual(p.got(), Buffer.from([0x61, 0xff, 0xff, 0x62, IAC, 252, 99]), 'IAC doubled; one WONT 99');
  assert.deepEqual(seen, Buffer.from([0x78, 0xff, 0x79]));
  p.close();
});

test('an option flood closes the connection and says so', async () => {
  const p = await pair();
  const flooded = new Promise((r) => p.ch.once('flood', r));
  const closed = new Promise((r) => p.ch.once('close', r));
  const many = Buffer.alloc(3 * (OPTION_FLOOD_PER_SECOND + 50));
  for (let i = 0; i < many.length; i += 3) many.set([IAC, (i / 3) % 2 ? DO : WILL, 100 + ((i / 3) % 100)], i);
  p.device.write(many);
  await flooded;
  await closed;
  p.close();
});

test('SSH helpers: the host key line of a blob, and only non-empty algorithm lists appended', () => {
  const blob = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.from([1, 2, 3])]);
  assert.equal(hostKeyLine(blob), `ssh-rsa ${blob.toString('base64')}`);
  assert.deepEqual(appendedAlgorithms({ kex: ['diffie-hellman-group14-sha1'], cipher: [] }), {
    kex: { append: ['diffie-hellman-group14-sha1'] },
  });
  assert.deepEqual(appendedAlgorithms({}), {});
});
