// The agent's unix socket (docs/agent-protocol.md): one request line, one
// response line per connection. SO_PEERCRED tells who asks; only uid 0 may
// ask PAM operations. Input is bounded (8 KiB line, idle timeout, a cap on
// concurrent connections) and every failure is an error line, never a crash.
import { chmodSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Logger } from '@jmp/common';
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
  maxConnections: number;
  idleTimeoutMs: number;
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

  let active = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (sock) => {
    sockets.add(sock);
    sock.on('close', () => {
      sockets.delete(sock);
      active--;
    });
    active++;
    sock.on('error', () => {}); // EPIPE/ECONNRESET from a client that left: nothing to do
    if (active > o.maxConnections) {
      reply(sock, { status: 'error', code: 'internal', reason: 'the agent is busy; try again' });
      return;
    }
    let peer: PeerCred;
    try {
      peer = o.peerCred(sock);
    } catch (err) {
      o.log.error({ err: (err as Error).message }, 'cannot read the peer credentials; closing');
      sock.destroy();
      return;
    }
    serve(sock, peer, o);
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

function serve(sock: Socket, peer: PeerCred, o: SocketServerOptions): void {
  let buffered: Buffer = Buffer.alloc(0);
  let done = false;
  // After the answer the socket stays open (half-closed) until the client
  // closes or goes idle: closing a unix socket with unread input makes the
  // peer's read fail with ECONNRESET before it sees the answer.
  const send = (res: Response) => {
    sock.setTimeout(o.idleTimeoutMs);
    sock.resume();
    reply(sock, res);
  };
  const finish = (res: Response) => {
    if (done) return;
    done = true;
    send(res);
  };
  sock.setTimeout(o.idleTimeoutMs, () => sock.destroy());
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
    buffered = Buffer.alloc(0);
    sock.setTimeout(0); // the decision has its own deadline
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
