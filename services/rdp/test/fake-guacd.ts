// A guacd stand-in that checks the handshake as guacd 1.3.0 does: `select`
// first, then the client's answers to `args` in exactly the order asked, each
// value read with its length in Unicode code points from the raw UTF-8 bytes.
// It records what it got (values byte-exact) and can misbehave on purpose.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** The RDP arguments guacd 1.3.0 asks for, a subset in its order (the order is what matters). */
export const ARG_NAMES = [
  'hostname',
  'port',
  'domain',
  'username',
  'password',
  'width',
  'height',
  'dpi',
  'security',
  'ignore-cert',
  'disable-copy',
  'disable-paste',
  'enable-drive',
  'recording-path',
  'recording-name',
  'create-recording-path',
  'resize-method',
];

export interface Handshake {
  select: string;
  /** The `connect` values in ARG_NAMES order, after the version. */
  connect: string[];
  /** Each connect value exactly as its bytes arrived. */
  connectBytes: Buffer[];
  version: string;
  byName: Record<string, string>;
  opcodes: string[];
}

export interface FakeGuacdOptions {
  /** After `ready`: send this much output in total, as fast as the socket takes it. */
  floodBytes?: number;
  /** Send nothing at all after `ready` (guacamole-lite's 10 s drop). */
  silent?: boolean;
  /** After `ready`, send a `name` instruction whose UTF-8 is split across two writes in the middle of a character. */
  splitUtf8?: string;
}

export interface FakeGuacd {
  port: number;
  /** TCP connections accepted so far. */
  connections: number;
  handshakes: Handshake[];
  errors: string[];
  /** Bytes the flood could hand to the socket (the rest waits: back-pressure). */
  flooded: number;
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Parses instructions from raw bytes: lengths count code points; returns the elements as byte slices. */
function takeInstruction(buf: Buffer): { elements: Buffer[]; rest: Buffer } | null {
  const elements: Buffer[] = [];
  let i = 0;
  for (;;) {
    const dot = buf.indexOf(0x2e, i);
    if (dot < 0) return null;
    const n = Number(buf.subarray(i, dot).toString('latin1'));
    if (!Number.isInteger(n)) throw new Error(`bad length at ${i}`);
    // Walk n code points of UTF-8.
    let j = dot + 1;
    for (let k = 0; k < n; k++) {
      if (j >= buf.length) return null;
      const b = buf[j]!;
      j += b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    }
    if (j >= buf.length) return null;
    elements.push(buf.subarray(dot + 1, j));
    const t = buf[j];
    if (t === 0x3b) return { elements, rest: buf.subarray(j + 1) };
    if (t !== 0x2c) throw new Error(`bad terminator ${t} at ${j}`);
    i = j + 1;
  }
}

const instr = (...el: string[]) => el.map((e) => `${[...e].length}.${e}`).join(',') + ';';

export async function startFakeGuacd(opts: FakeGuacdOptions = {}): Promise<FakeGuacd> {
  const state: FakeGuacd = {
    port: 0,
    connections: 0,
    handshakes: [],
    errors: [],
    flooded: 0,
    sockets: new Set(),
    close: async () => {},
  };
  const server: Server = createServer((sock) => {
    state.connections++;
    state.sockets.add(sock);
    sock.on('close', () => state.sockets.delete(sock));
    sock.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    const hs: Handshake = { select: '', connect: [], connectBytes: [], version: '', byName: {}, opcodes: [] };
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let got;
        try {
          got = takeInstruction(buf);
        } catch (err) {
          state.errors.push((err as Error).message);
          sock.destroy();
          return;
        }
        if (!got) return;
        buf = got.rest;
        const [op, ...args] = got.elements;
        const opcode = op!.toString('utf8');
        hs.opcodes.push(opcode);
        if (hs.opcodes.length === 1 && opcode !== 'select') {
          state.errors.push(`first instruction was ${opcode}, not select`);
          sock.destroy();
          return;
        }
        if (opcode === 'select') {
          hs.select = args[0]!.toString('utf8');
          sock.write(instr('args', 'VERSION_1_3_0', ...ARG_NAMES));
        } else if (opcode === 'connect') {
          if (args.length !== ARG_NAMES.length + 1) {
            state.errors.push(`connect had ${args.length} values for ${ARG_NAMES.length + 1} args`);
            sock.destroy();
            return;
          }
          hs.version = args[0]!.toString('utf8');
          hs.connectBytes = args.slice(1);
          hs.connect = hs.connectBytes.map((b) => b.toString('utf8'));
          hs.byName = Object.fromEntries(ARG_NAMES.map((n, k) => [n, hs.connect[k]!]));
          state.handshakes.push(hs);
          sock.write(instr('ready', `$fake-${state.connections}`));
          if (opts.silent) return;
          sock.write(instr('size', '0', '1024', '768') + instr('sync', String(Date.now())));
          if (opts.splitUtf8) {
            const b = Buffer.from(instr('name', opts.splitUtf8));
            const cut = b.findIndex((x) => x >= 0x80) + 1; // inside the first multi-byte character
            sock.write(b.subarray(0, cut));
            setTimeout(() => sock.write(b.subarray(cut)), 50);
          }
          if (opts.floodBytes) flood(sock, opts.floodBytes, state);
          else keepAlive(sock);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of state.sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}

// guacd's keep-alive: a nop every second here (5 s in guacd), until the socket closes.
function keepAlive(sock: Socket) {
  const t = setInterval(() => sock.write(instr('nop')), 1000);
  sock.on('close', () => clearInterval(t));
}

// A moving desktop at full speed: write while the socket takes it, wait for drain otherwise.
function flood(sock: Socket, total: number, state: FakeGuacd) {
  const chunk = instr('png', '1', '15', '0', '0', 'A'.repeat(16 * 1024));
  const go = () => {
    while (state.flooded < total && !sock.destroyed) {
      state.flooded += chunk.length;
      if (!sock.write(chunk)) return void sock.once('drain', go);
    }
  };
  go();
}
