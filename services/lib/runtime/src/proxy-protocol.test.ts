// The PROXY protocol parser: v1 and v2, partial, malformed and oversized
// headers, the socket reader's hand-over and timeout, trusted peers.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import {
  parseProxyHeader,
  readProxyHeader,
  trustedPeers,
  V2_SIGNATURE,
  V2_MAX_PAYLOAD,
  V1_MAX_LENGTH,
} from './proxy-protocol.js';

const v1 = (s: string) => Buffer.from(s, 'latin1');

function v2(verCmd: number, famProto: number, body: Buffer, declared = body.length): Buffer {
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = famProto;
  head.writeUInt16BE(declared, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}
function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}
function inet6(src: Buffer, dst: Buffer, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(36);
  src.copy(b, 0);
  dst.copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('v1', () => {
  test('TCP4 and TCP6 headers; the stream begins after CRLF', () => {
    const r = parseProxyHeader(v1('PROXY TCP4 192.0.2.7 10.0.1.11 51234 2200\r\nSSH-2.0-OpenSSH_9.2\r\n'));
    assert.deepEqual(r, {
      status: 'done',
      version: 1,
      length: 43,
      header: {
        command: 'proxy',
        family: 'IPv4',
        sourceAddress: '192.0.2.7',
        sourcePort: 51234,
        destAddress: '10.0.1.11',
        destPort: 2200,
      },
    });
    const r6 = parseProxyHeader(v1('PROXY TCP6 2001:DB8::7 2001:db8::1 65535 0\r\n'));
    assert.equal(r6.status, 'done');
    assert.deepEqual(r6.status === 'done' && r6.header, {
      command: 'proxy',
      family: 'IPv6',
      sourceAddress: '2001:db8::7',
      sourcePort: 65535,
      destAddress: '2001:db8::1',
      destPort: 0,
    });
    const mapped = parseProxyHeader(v1('PROXY TCP6 ::ffff:192.0.2.9 ::ffff:10.0.0.1 1 2\r\n'));
    assert.equal(
      mapped.status === 'done' && mapped.header.command === 'proxy' && mapped.header.sourceAddress,
      '192.0.2.9',
    );
  });
  test('UNKNOWN means the connection speaks for itself', () => {
    assert.deepEqual(parseProxyHeader(v1('PROXY UNKNOWN\r\n')), {
      status: 'done',
      version: 1,
      length: 15,
      header: { command: 'local' },
    });
    assert.deepEqual(parseProxyHeader(v1('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')).status, 'done');
  });
  test('partial headers wait for more', () => {
    const full = 'PROXY TCP4 192.0.2.7 10.0.1.11 51234 2200\r\n';
    for (let i = 1; i < full.length; i++)
      assert.deepEqual(parseProxyHeader(v1(full.slice(0, i))), { status: 'incomplete' }, `${i} bytes`);
  });
  for (const [name, header] of [
    ['no signature', 'SSH-2.0-OpenSSH_9.2\r\n'],
    ['lower-case', 'proxy TCP4 192.0.2.7 10.0.1.11 1 2\r\n'],
    ['unknown protocol', 'PROXY UDP4 192.0.2.7 10.0.1.11 1 2\r\n'],
    ['IPv6 under TCP4', 'PROXY TCP4 2001:db8::1 10.0.1.11 1 2\r\n'],
    ['IPv4 under TCP6', 'PROXY TCP6 192.0.2.7 2001:db8::1 1 2\r\n'],
    ['a zone id', 'PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n'],
    ['leading zeros in an address', 'PROXY TCP4 192.0.2.007 10.0.1.11 1 2\r\n'],
    ['port out of range', 'PROXY TCP4 192.0.2.7 10.0.1.11 65536 2\r\n'],
    ['port with leading zero', 'PROXY TCP4 192.0.2.7 10.0.1.11 01 2\r\n'],
    ['signed port', 'PROXY TCP4 192.0.2.7 10.0.1.11 +1 2\r\n'],
    ['double space', 'PROXY TCP4  192.0.2.7 10.0.1.11 1 2\r\n'],
    ['missing port', 'PROXY TCP4 192.0.2.7 10.0.1.11 1\r\n'],
    ['extra field', 'PROXY TCP4 192.0.2.7 10.0.1.11 1 2 3\r\n'],
    ['bare LF', 'PROXY TCP4 192.0.2.7 10.0.1.11 1 2\n'],
    ['CR without LF', 'PROXY TCP4 192.0.2.7 10.0.1.11 1 2\rX'],
    ['control byte', 'PROXY TCP4 192.0.2.7\t10.0.1.11 1 2\r\n'],
    ['non-ASCII byte', 'PROXY TCP4 192.0.2.7 10.0.1.11 1 2\xff\r\n'],
  ] as const) {
    test(`malformed: ${name}`, () => assert.equal(parseProxyHeader(v1(header)).status, 'invalid'));
  }
  test(`oversized: no CRLF within ${V1_MAX_LENGTH} bytes`, () => {
    assert.equal(parseProxyHeader(v1(`PROXY UNKNOWN ${'a'.repeat(V1_MAX_LENGTH)}`)).status, 'invalid');
    assert.equal(parseProxyHeader(v1(`PROXY UNKNOWN ${'a'.repeat(V1_MAX_LENGTH - 17)}`)).status, 'incomplete');
    // The longest legal header fits.
    const longest = `PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
    assert.ok(longest.length <= V1_MAX_LENGTH);
    assert.equal(parseProxyHeader(v1(longest)).status, 'done');
    const exactly = `PROXY UNKNOWN ${'a'.repeat(V1_MAX_LENGTH - 16)}\r\n`;
    assert.equal(exactly.length, V1_MAX_LENGTH);
    assert.equal(parseProxyHeader(v1(exactly)).status, 'done');
    assert.equal(parseProxyHeader(v1(`PROXY UNKNOWN ${'a'.repeat(V1_MAX_LENGTH - 15)}\r\n`)).status, 'invalid');
  });
});

describe('v2', () => {
  test('PROXY over TCP/IPv4, TLVs skipped, the stream begins after them', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x01, 0x00]); // PP2_TYPE_NOOP, 1 byte
    const buf = Buffer.concat([
      v2(0x21, 0x11, Buffer.concat([inet4([192, 0, 2, 7], [10, 0, 1, 11], 51234, 2200), tlv])),
      v1('SSH-2.0-x\r\n'),
    ]);
    assert.deepEqual(parseProxyHeader(buf), {
      status: 'done',
      version: 2,
      length: 16 + 16,
      header: {
        command: 'proxy',
        family: 'IPv4',
        sourceAddress: '192.0.2.7',
        sourcePort: 51234,
        destAddress: '10.0.1.11',
        destPort: 2200,
      },
    });
  });
  test('PROXY over TCP/IPv6: canonical text; IPv4-mapped becomes IPv4', () => {
    const r = parseProxyHeader(
      v2(
        0x21,
        0x21,
        inet6(hex('20010db8 00000000 00000000 00000007'), hex('20010db8 00010000 00000000 00000001'), 1, 2),
      ),
    );
    assert.equal(
      r.status === 'done' && r.header.command === 'proxy' && `${r.header.sourceAddress} ${r.header.destAddress}`,
      '2001:db8::7 2001:db8:1::1',
    );
    const m = parseProxyHeader(
      v2(
        0x21,
        0x21,
        inet6(hex('00000000 00000000 0000ffff c0000209'), hex('00000000 00000000 00000000 00000001'), 1, 2),
      ),
    );
    assert.deepEqual(
      m.status === 'done' &&
        m.header.command === 'proxy' && [m.header.family, m.header.sourceAddress, m.header.destAddress],
      ['IPv4', '192.0.2.9', '::1'],
    );
  });
  test('LOCAL (health check), UNSPEC and UNIX keep the real endpoints', () => {
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), {
      status: 'done',
      version: 2,
      length: 16,
      header: { command: 'local' },
    });
    assert.deepEqual(parseProxyHeader(v2(0x20, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))).status === 'done', true);
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), {
      status: 'done',
      version: 2,
      length: 16,
      header: { command: 'local' },
    });
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))), {
      status: 'done',
      version: 2,
      length: 16 + 216,
      header: { command: 'local' },
    });
  });
  test('partial headers wait for more', () => {
    const full = v2(0x21, 0x11, inet4([192, 0, 2, 7], [10, 0, 1, 11], 1, 2));
    for (let i = 1; i < full.length; i++)
      assert.deepEqual(parseProxyHeader(full.subarray(0, i)), { status: 'incomplete' }, `${i} bytes`);
  });
  for (const [name, buf] of [
    ['version 1 in the binary form', v2(0x11, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['version 3', v2(0x31, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['unknown command', v2(0x22, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['unknown family', v2(0x21, 0x41, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['unknown transport', v2(0x21, 0x13, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['datagram', v2(0x21, 0x12, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))],
    ['IPv4 block too short', v2(0x21, 0x11, Buffer.alloc(11))],
    ['IPv6 block too short', v2(0x21, 0x21, Buffer.alloc(35))],
    ['broken signature', Buffer.concat([V2_SIGNATURE.subarray(0, 11), Buffer.from([0x00]), Buffer.alloc(20)])],
  ] as const) {
    test(`malformed: ${name}`, () => assert.equal(parseProxyHeader(buf).status, 'invalid'));
  }
  test(`oversized: more than ${V2_MAX_PAYLOAD} bytes declared is refused before they arrive`, () => {
    assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.alloc(0), V2_MAX_PAYLOAD + 1)).status, 'invalid');
    assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.alloc(0), 0xffff)).status, 'invalid');
    assert.equal(parseProxyHeader(v2(0x21, 0x11, Buffer.alloc(12), V2_MAX_PAYLOAD)).status, 'incomplete');
  });
});

describe('readProxyHeader on a socket', () => {
  async function pair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
    const [server] = (await once(srv, 'connection')) as [net.Socket];
    return {
      client,
      server,
      close: () => {
        client.destroy();
        server.destroy();
        srv.close();
      },
    };
  }

  test('a header split over writes, with the stream in the same segment: the rest is left for the next reader', async () => {
    const p = await pair();
    const got = readProxyHeader(p.server, { timeoutMs: 2000 });
    p.client.write('PROXY TCP4 192.0.2.7 ');
    await new Promise((r) => setTimeout(r, 30));
    p.client.write('10.0.1.11 51234 2200\r\nSSH-2.0-client\r\n');
    const header = await got;
    assert.deepEqual(header, {
      command: 'proxy',
      family: 'IPv4',
      sourceAddress: '192.0.2.7',
      sourcePort: 51234,
      destAddress: '10.0.1.11',
      destPort: 2200,
    });
    assert.equal(p.server.isPaused(), true);
    p.client.write('more');
    let rest = '';
    p.server.on('data', (d: Buffer) => {
      rest += d.toString('latin1');
    });
    p.server.resume();
    while (rest.length < 'SSH-2.0-client\r\nmore'.length) await new Promise((r) => setTimeout(r, 10));
    assert.equal(rest, 'SSH-2.0-client\r\nmore');
    p.close();
  });
  test('a peer that sends nothing is given up on after the timeout', async () => {
    const p = await pair();
    const t0 = Date.now();
    await assert.rejects(readProxyHeader(p.server, { timeoutMs: 200 }), /no complete PROXY header within 200 ms/);
    assert.ok(Date.now() - t0 >= 190);
    p.close();
  });
  test('a partial header then silence times out; a close before the end is refused', async () => {
    const p = await pair();
    p.client.write('PROXY TCP4 192.0.2.7');
    await assert.rejects(readProxyHeader(p.server, { timeoutMs: 200 }), /within 200 ms/);
    p.close();
    const q = await pair();
    const got = readProxyHeader(q.server, { timeoutMs: 2000 });
    q.client.end('PROXY TCP4');
    await assert.rejects(got, /closed before a complete PROXY header/);
    q.close();
  });
  test('plain SSH without a header and a flood without CRLF are refused at once', async () => {
    const p = await pair();
    const got = readProxyHeader(p.server, { timeoutMs: 2000 });
    p.client.write('SSH-2.0-OpenSSH_9.2\r\n');
    await assert.rejects(got, /no PROXY protocol signature/);
    p.close();
    const q = await pair();
    const flood = readProxyHeader(q.server, { timeoutMs: 2000 });
    q.client.write(`PROXY ${'9'.repeat(64 * 1024)}`);
    await assert.rejects(flood, /no CRLF within 107 bytes/);
    q.close();
  });
});

describe('trustedPeers', () => {
  test('addresses and CIDR blocks, IPv4 and IPv6; IPv4-mapped peers match as IPv4', () => {
    const t = trustedPeers(['10.0.1.11', '192.168.0.0/24', 'fd00::/8', ' 127.0.0.1 ']);
    for (const a of ['10.0.1.11', '192.168.0.200', 'fd12::1', '::ffff:10.0.1.11', '127.0.0.1'])
      assert.equal(t(a), true, a);
    for (const a of ['10.0.1.12', '192.168.1.1', 'fe80::1', '::ffff:10.0.1.12', undefined, '', 'nonsense'])
      assert.equal(t(a), false, String(a));
    assert.equal(trustedPeers([])('127.0.0.1'), false);
  });
  test('a bad entry is an error naming it', () => {
    assert.throws(() => trustedPeers(['nginx.local']), /"nginx.local" is not an IP address or CIDR block/);
    assert.throws(() => trustedPeers(['10.0.0.0/33']), /prefix length must be 0..32/);
    assert.throws(() => trustedPeers(['10.0.0.0/']), /prefix length/);
    assert.throws(() => trustedPeers(['fd00::/129']), /0..128/);
  });
});
