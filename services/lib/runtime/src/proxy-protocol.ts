// The PROXY protocol (v1 text and v2 binary, haproxy.org/download/2.9/doc/proxy-protocol.txt)
// as sent by an L4 balancer (nginx `proxy_protocol on;`, HAProxy `send-proxy[-v2]`) in front of
// a TCP service, so that the service learns the real client address. Strict and bounded: a
// header that is malformed, too long or incomplete in time closes the connection. Whether a
// peer may send a header at all is the caller's decision (see trustedPeers).
import net from 'node:net';

/** The client as the balancer saw it, or `local`: use the connection's own addresses (health checks, UNKNOWN). */
export type ProxyHeader =
  | {
      command: 'proxy';
      family: 'IPv4' | 'IPv6';
      sourceAddress: string;
      sourcePort: number;
      destAddress: string;
      destPort: number;
    }
  | { command: 'local' };

export type ParseResult =
  | { status: 'incomplete' }
  | { status: 'done'; header: ProxyHeader; length: number; version: 1 | 2 }
  | { status: 'invalid'; reason: string };

/** v1: "PROXY TCP6 " + 2×39 + 2×5 + 3 spaces + CRLF is 107 bytes at most (the spec's own bound). */
export const V1_MAX_LENGTH = 107;
/** v2: 16 bytes, then addresses (≤ 216 for AF_UNIX) and TLVs. We accept 1 KiB of both, no more. */
export const V2_MAX_PAYLOAD = 1024;
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');

/** Parses the header at the start of `buf`; `length` is where the proxied stream begins. */
export function parseProxyHeader(buf: Buffer): ParseResult {
  if (startsWithPrefix(buf, V2_SIGNATURE))
    return buf.length < V2_SIGNATURE.length ? { status: 'incomplete' } : parseV2(buf);
  if (startsWithPrefix(buf, V1_SIGNATURE))
    return buf.length < V1_SIGNATURE.length ? { status: 'incomplete' } : parseV1(buf);
  return { status: 'invalid', reason: 'no PROXY protocol signature' };
}

/** True when buf and sig agree on their common length (buf may be a prefix of sig). */
function startsWithPrefix(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

function parseV1(buf: Buffer): ParseResult {
  // The CR must be at index V1_MAX_LENGTH - 2 at the latest, for CRLF to end within the bound.
  const scan = Math.min(buf.length, V1_MAX_LENGTH - 1);
  let end = -1;
  for (let i = 0; i < scan; i++) {
    const c = buf[i]!;
    if (c === 0x0d) {
      if (i + 1 >= buf.length) return { status: 'incomplete' };
      if (buf[i + 1] !== 0x0a) return { status: 'invalid', reason: 'v1: CR not followed by LF' };
      end = i;
      break;
    }
    if (c < 0x20 || c > 0x7e) return { status: 'invalid', reason: 'v1: non-printable byte in header' };
  }
  if (end < 0)
    return buf.length >= V1_MAX_LENGTH - 1
      ? { status: 'invalid', reason: `v1: no CRLF within ${V1_MAX_LENGTH} bytes` }
      : { status: 'incomplete' };
  const line = buf.toString('latin1', 0, end);
  const length = end + 2;
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { status: 'done', header: { command: 'local' }, length, version: 1 };
  if (parts.length !== 6) return { status: 'invalid', reason: 'v1: expected "PROXY TCP4|TCP6 src dst sport dport"' };
  const [, proto, src, dst, sport, dport] = parts as [string, string, string, string, string, string];
  const family = proto === 'TCP4' ? 'IPv4' : proto === 'TCP6' ? 'IPv6' : null;
  if (!family) return { status: 'invalid', reason: `v1: unknown protocol ${JSON.stringify(proto.slice(0, 16))}` };
  const isIp = family === 'IPv4' ? net.isIPv4 : net.isIPv6;
  if (!isIp(src) || !isIp(dst) || src.includes('%') || dst.includes('%'))
    return { status: 'invalid', reason: `v1: addresses are not ${family}` };
  const sp = v1Port(sport),
    dp = v1Port(dport);
  if (sp === null || dp === null)
    return { status: 'invalid', reason: 'v1: ports must be decimal 0..65535 without leading zeros' };
  const source = unmapV4(family, src.toLowerCase()),
    dest = unmapV4(family, dst.toLowerCase());
  return {
    status: 'done',
    length,
    version: 1,
    header: {
      command: 'proxy',
      family: source.family,
      sourceAddress: source.address,
      sourcePort: sp,
      destAddress: dest.address,
      destPort: dp,
    },
  };
}

function v1Port(s: string): number | null {
  if (s.length < 1 || s.length > 5 || (s.length > 1 && s[0] === '0')) return null;
  for (const ch of s) if (ch < '0' || ch > '9') return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

function parseV2(buf: Buffer): ParseResult {
  if (buf.length < 16) return { status: 'incomplete' };
  const verCmd = buf[12]!,
    famProto = buf[13]!,
    len = buf.readUInt16BE(14);
  if (verCmd >> 4 !== 2) return { status: 'invalid', reason: `v2: version ${verCmd >> 4}` };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { status: 'invalid', reason: `v2: unknown command ${cmd}` };
  if (len > V2_MAX_PAYLOAD)
    return { status: 'invalid', reason: `v2: ${len} bytes of addresses and TLVs (at most ${V2_MAX_PAYLOAD})` };
  if (buf.length < 16 + len) return { status: 'incomplete' };
  const length = 16 + len;
  const af = famProto >> 4,
    proto = famProto & 0x0f;
  if (af > 3 || proto > 2)
    return { status: 'invalid', reason: `v2: unknown family/protocol 0x${famProto.toString(16)}` };
  // LOCAL: the balancer speaks for itself (health checks); the address block is ignored.
  if (cmd === 0) return { status: 'done', header: { command: 'local' }, length, version: 2 };
  // Datagrams cannot reach a stream service; UNSPEC and UNIX carry no client IP: the real endpoints stand.
  if (proto === 2)
    return { status: 'invalid', reason: 'v2: a datagram connection cannot be proxied to a stream service' };
  if (af === 0 || af === 3) return { status: 'done', header: { command: 'local' }, length, version: 2 };
  const addrLen = af === 1 ? 12 : 36;
  if (len < addrLen)
    return { status: 'invalid', reason: `v2: address block of ${len} bytes is shorter than ${addrLen}` };
  const body = buf.subarray(16, 16 + addrLen);
  const a = af === 1 ? 4 : 16;
  const source =
    af === 1 ? { family: 'IPv4' as const, address: formatIPv4(body.subarray(0, 4)) } : formatIPv6(body.subarray(0, 16));
  const dest =
    af === 1
      ? { family: 'IPv4' as const, address: formatIPv4(body.subarray(4, 8)) }
      : formatIPv6(body.subarray(16, 32));
  return {
    status: 'done',
    length,
    version: 2,
    header: {
      command: 'proxy',
      family: source.family,
      sourceAddress: source.address,
      sourcePort: body.readUInt16BE(2 * a),
      destAddress: dest.address,
      destPort: body.readUInt16BE(2 * a + 2),
    },
  };
}

const formatIPv4 = (b: Buffer) => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;

/** RFC 5952 text of 16 bytes; an IPv4-mapped address (::ffff:a.b.c.d) is given as IPv4. */
function formatIPv6(b: Buffer): { family: 'IPv4' | 'IPv6'; address: string } {
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff)
    return { family: 'IPv4', address: formatIPv4(b.subarray(12)) };
  const groups = Array.from({ length: 8 }, (_v, i) => b.readUInt16BE(2 * i));
  let bestAt = -1,
    bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return { family: 'IPv6', address: hex.join(':') };
  return { family: 'IPv6', address: `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}` };
}

/** A v1 TCP6 header may carry an IPv4-mapped address; services see IPv4 clients in dotted form. */
function unmapV4(family: 'IPv4' | 'IPv6', address: string): { family: 'IPv4' | 'IPv6'; address: string } {
  const m = family === 'IPv6' && address.startsWith('::ffff:') ? address.slice(7) : null;
  return m && net.isIPv4(m) ? { family: 'IPv4', address: m } : { family, address };
}

export class ProxyHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProxyHeaderError';
  }
}

export interface ReadHeaderOptions {
  timeoutMs: number;
}

/**
 * Reads the header from a fresh socket. Resolves with the header once it is
 * complete; the bytes after it are put back (unshift) and the socket is left
 * paused for its next reader. Rejects (the caller closes the socket) on a bad
 * header, on end or error before it, or after timeoutMs.
 */
export function readProxyHeader(socket: net.Socket, { timeoutMs }: ReadHeaderOptions): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const finish = (err: Error | null, header?: ProxyHeader) => {
      socket.pause();
      clearTimeout(timer);
      socket
        .removeListener('data', onData)
        .removeListener('end', onEnd)
        .removeListener('error', onError)
        .removeListener('close', onEnd);
      if (err) reject(err);
      else resolve(header!);
    };
    const onData = (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const r = parseProxyHeader(buf);
      if (r.status === 'incomplete') {
        // Unreachable by the parser's own bounds; kept so no path buffers without limit.
        if (buf.length > 16 + V2_MAX_PAYLOAD) finish(new ProxyHeaderError('PROXY header too long'));
        return;
      }
      if (r.status === 'invalid') {
        finish(new ProxyHeaderError(`bad PROXY header: ${r.reason}`));
        return;
      }
      finish(null, r.header);
      if (buf.length > r.length) socket.unshift(buf.subarray(r.length));
    };
    const onEnd = () => finish(new ProxyHeaderError('connection closed before a complete PROXY header'));
    const onError = (err: Error) =>
      finish(new ProxyHeaderError(`connection failed before a complete PROXY header: ${err.message}`));
    const timer = setTimeout(
      () => finish(new ProxyHeaderError(`no complete PROXY header within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('data', onData).once('end', onEnd).once('error', onError).once('close', onEnd);
  });
}

/**
 * A matcher for the balancers allowed to send a header: IPv4/IPv6 addresses
 * and CIDR blocks ("10.0.1.11", "10.0.1.0/24", "fd00::/8"). Throws on an entry
 * that is neither. IPv4-mapped IPv6 peers (::ffff:a.b.c.d, a dual-stack
 * listener) are matched as IPv4.
 */
export function trustedPeers(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const raw of entries) {
    const e = raw.trim();
    const slash = e.indexOf('/');
    const addr = slash < 0 ? e : e.slice(0, slash);
    const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : null;
    if (!family) throw new Error(`${JSON.stringify(raw)} is not an IP address or CIDR block`);
    if (slash < 0) {
      list.addAddress(addr, family);
      continue;
    }
    const bits = e.slice(slash + 1);
    const max = family === 'ipv4' ? 32 : 128;
    if (!/^(0|[1-9]\d{0,2})$/.test(bits) || Number(bits) > max)
      throw new Error(`${JSON.stringify(raw)}: the prefix length must be 0..${max}`);
    list.addSubnet(addr, Number(bits), family);
  }
  return (address) => {
    if (!address) return false;
    const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : null;
    if (v4) return list.check(v4, 'ipv4');
    if (net.isIPv4(address)) return list.check(address, 'ipv4');
    return net.isIPv6(address) && list.check(address, 'ipv6');
  };
}
