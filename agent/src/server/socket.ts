// The agent's unix socket (docs/agent-protocol.md): one request line, one
// response line per connection. SO_PEERCRED tells who asks; only uid 0 may
// ask PAM operations. Input is bounded (8 KiB line, an absolute deadline from
// accept, caps on concurrent connections per uid with slots kept for root) and
// every failure is an error line, never a crash. A local user must not be able
// to starve root's PAM questions: over a cap a connection is closed at once.
import { chmodSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@jmp/runtime';
import type { PeerCred } from '@jmp/native';
import {
  PAM_OPS,
  ProtocolError,
  decodeRequest,
  encodeResponse,
  fitReason,
  readLine,
  type DecodedRequest,
  type Response,
} from '../protocol/line.js';

export type RequestHandler = (req: DecodedRequest, peer: PeerCred) => Promise<Response>;

export interface SocketServerOptions {
  path: string;
  /** Connections held at once, all uids together. */
  maxConnections: number;
  /** Upper bound for the request deadline and for lingering after the answer. */
  idleTimeoutMs: number;
  /** Connections one non-root uid may hold at once (default 8). */
  maxPerUid?: number;
  /** Slots of maxConnections only uid 0 may use (default: an eighth, 1 to 32). */
  rootReserve?: number;
  /** Time from accept to a complete request line, whatever arrives meanwhile (default 2 s). */
  requestDeadlineMs?: number;
  handle: RequestHandler;
  peerCred: (s: Socket) => PeerCred;
  log: Pick<Logger, 'warn' | 'info' | 'error' | 'debug'>;
}

export interface SocketServer {
  readonly path: string;
  readonly active: number;
  close(): Promise<void>;
}

const SUN_PATH_MAX = 107;

const BUSY_LINE = encodeResponse({ status: 'error', code: 'internal', reason: 'the agent is busy; try again' });

interface Limits {
  total: number;
  perUid: number;
  rootReserve: number;
  requestDeadlineMs: number;
  lingerMs: number;
}

export function connectionLimits(
  o: Pick<SocketServerOptions, 'maxConnections' | 'idleTimeoutMs' | 'maxPerUid' | 'rootReserve' | 'requestDeadlineMs'>,
): Limits {
  const total = Math.max(1, o.maxConnections);
  const rootReserve = Math.min(total, o.rootReserve ?? Math.max(1, Math.min(32, Math.floor(total / 8))));
  return {
    total,
    rootReserve,
    perUid: Math.max(1, o.maxPerUid ?? 8),
    requestDeadlineMs: Math.min(o.requestDeadlineMs ?? 2000, o.idleTimeoutMs),
    lingerMs: Math.min(1000, o.idleTimeoutMs),
  };
}

/** True when something answers on the socket path (another agent is running). */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    setTimeout(() => done(false), 1000).unref();
  });
}

export async function startSocketServer(o: SocketServerOptions): Promise<SocketServer> {
  mkdirSync(dirname(o.path), { recursive: true, mode: 0o755 });
  let existing: ReturnType<typeof lstatSync> | null = null;
  try {
    existing = lstatSync(o.path);
  } catch {
    /* absent */
  }
  if (existing) {
    if (!existing.isSocket()) throw new Error(`${o.path} exists and is not a socket; refusing to replace it`);
    if (await isLive(o.path)) throw new Error(`another process answers on ${o.path} (is jmp-agent already running?)`);
    o.log.info({ path: o.path }, 'removing a stale socket');
    unlinkSync(o.path);
  }

  const limits = connectionLimits(o);
  let active = 0;
  let nonRoot = 0;
  const perUid = new Map<number, number>();
  const sockets = new Set<Socket>();
  let lastBusyLog = 0;
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sock.on('error', () => {}); // EPIPE/ECONNRESET from a client that left: nothing to do
    let peer: PeerCred;
    try {
      peer = o.peerCred(sock);
    } catch (err) {
      o.log.error({ err: (err as Error).message }, 'cannot read the peer credentials; closing');
      sock.destroy();
      return;
    }
    const root = peer.uid === 0;
    const held = perUid.get(peer.uid) ?? 0;
    const full = root ? active >= limits.total : nonRoot >= limits.total - limits.rootReserve || held >= limits.perUid;
    if (full) {
      // No queue: a connection over a cap costs nothing after this line.
      if (Date.now() - lastBusyLog > 10_000) {
        lastBusyLog = Date.now();
        o.log.warn({ uid: peer.uid, pid: peer.pid, held, active }, 'connection over the limits closed (agent busy)');
      }
      sock.end(BUSY_LINE);
      sock.destroy();
      return;
    }
    active++;
    if (!root) nonRoot++;
    perUid.set(peer.uid, held + 1);
    sockets.add(sock);
    sock.on('close', () => {
      sockets.delete(sock);
      active--;
      if (!root) nonRoot--;
      const n = (perUid.get(peer.uid) ?? 1) - 1;
      if (n > 0) perUid.set(peer.uid, n);
      else perUid.delete(peer.uid);
    });
    serve(sock, peer, o, limits);
  });
  server.on('error', (err) => o.log.error({ err: err.message }, 'socket server error'));

  // Bind under a temporary name, set the mode, then rename: the socket never
  // appears under its final name with the wrong mode.
  const tmp = join(dirname(o.path), `.${basename(o.path)}.${process.pid}`);
  const bindPath = Buffer.byteLength(tmp) <= SUN_PATH_MAX ? tmp : o.path;
  try {
    unlinkSync(tmp);
  } catch {
    /* absent */
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bindPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(bindPath, 0o666);
  if (bindPath !== o.path) renameSync(bindPath, o.path);
  const ino = statSync(o.path).ino;
  o.log.info({ path: o.path }, 'listening');

  return {
    path: o.path,
    get active() {
      return active;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      try {
        if (statSync(o.path).ino === ino) unlinkSync(o.path);
      } catch {
        /* gone already */
      }
    },
  };
}

function reply(sock: Socket, res: Response): void {
  let line: string;
  try {
    line = encodeResponse(fitReason(res));
  } catch {
    line = encodeResponse({ status: 'error', code: 'internal', reason: 'the answer could not be encoded' });
  }
  sock.end(line);
}

function serve(sock: Socket, peer: PeerCred, o: SocketServerOptions, limits: Limits): void {
  let buffered: Buffer = Buffer.alloc(0);
  let done = false;
  // An absolute deadline, not an idle timer: a byte every second must not
  // keep a connection (and its slot) forever.
  const deadline = setTimeout(() => sock.destroy(), limits.requestDeadlineMs);
  deadline.unref();
  sock.once('close', () => clearTimeout(deadline));
  // After the answer the socket stays open (half-closed) until the client
  // closes, for at most lingerMs: closing a unix socket with unread input
  // makes the peer's read fail with ECONNRESET before it sees the answer.
  const send = (res: Response) => {
    if (sock.destroyed) return;
    const linger = setTimeout(() => sock.destroy(), limits.lingerMs);
    linger.unref();
    sock.once('close', () => clearTimeout(linger));
    sock.resume();
    reply(sock, res);
  };
  const finish = (res: Response) => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    send(res);
  };
  sock.on('data', (chunk: Buffer) => {
    if (done) return; // drained and dropped
    const r = readLine(buffered, chunk);
    if (r.kind === 'need_more') {
      buffered = r.buffered;
      return;
    }
    if (r.kind === 'too_long') {
      finish({ status: 'error', code: 'too_long', reason: 'a request line is at most 8192 bytes' });
      return;
    }
    if (r.rest.length > 0) {
      finish({ status: 'error', code: 'bad_request', reason: 'one request line per connection' });
      return;
    }
    done = true;
    clearTimeout(deadline); // the decision has its own deadline
    buffered = Buffer.alloc(0);
    sock.pause();
    void answer(r.line, peer, o).then(send);
  });
  sock.on('end', () => {
    if (!done) finish({ status: 'error', code: 'bad_request', reason: 'the connection ended before a complete line' });
  });
}

async function answer(line: Buffer, peer: PeerCred, o: SocketServerOptions): Promise<Response> {
  let req: DecodedRequest;
  try {
    req = decodeRequest(line);
  } catch (err) {
    if (err instanceof ProtocolError) {
      const code = err.code === 'unknown_status' ? 'bad_request' : err.code;
      return { status: 'error', code, reason: err.message };
    }
    return { status: 'error', code: 'internal', reason: 'the request could not be read' };
  }
  if (PAM_OPS.has(req.op) && peer.uid !== 0) {
    o.log.warn({ op: req.op, uid: peer.uid, pid: peer.pid }, 'PAM question from a non-root peer refused');
    return { status: 'error', code: 'forbidden', reason: 'PAM operations need uid 0' };
  }
  try {
    return await o.handle(req, peer);
  } catch (err) {
    o.log.error({ op: req.op, err: (err as Error).message, stack: (err as Error).stack }, 'request failed');
    return { status: 'error', code: 'internal', reason: 'the agent failed to answer; see its log' };
  }
}
