// A scripted stand-in for jmp-agent on a unix socket, for tests that drive
// pam_jmp.so through real libpam. It speaks the server side of the v1 line
// protocol with agent/src/protocol/line.ts and records every exchange.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProtocolError,
  decodeRequest,
  encodeResponse,
  readLine,
  type DecodedRequest,
  type Response,
} from '@jmp/agent/protocol/line';
import { peerCred, type PeerCred } from '../src/index.js';

/** What to do with one request: answer it, send raw bytes, close at once, or never answer. */
export type Reply = Response | { raw: string | Buffer } | 'close' | 'hang';

export interface Exchange {
  /** The request line exactly as received, without its `\n`. */
  line: string;
  /** The decoded request, or the protocol error that rejected it. */
  request: DecodedRequest | ProtocolError;
  peer: PeerCred;
}

export interface Responder {
  socketPath: string;
  exchanges: Exchange[];
  /** Changes the behaviour for the following requests. */
  setReply(reply: Reply | ((req: DecodedRequest) => Reply)): void;
  close(): Promise<void>;
}

export async function startResponder(initial: Reply | ((req: DecodedRequest) => Reply)): Promise<Responder> {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-responder-'));
  const socketPath = join(dir, 'agent.sock');
  const exchanges: Exchange[] = [];
  const sockets = new Set<Socket>();
  let reply = initial;

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const peer = peerCred(socket);
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      const r = readLine(buffered, chunk);
      if (r.kind === 'need_more') {
        buffered = r.buffered;
        return;
      }
      done = true;
      if (r.kind === 'too_long') {
        socket.end(encodeResponse({ status: 'error', code: 'too_long', reason: 'request line too long' }));
        return;
      }
      const line = r.line.toString('latin1');
      let request: DecodedRequest | ProtocolError;
      try {
        request = decodeRequest(r.line);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        request = err;
      }
      exchanges.push({ line, request, peer });
      if (request instanceof ProtocolError) {
        const code = request.code === 'unknown_status' ? 'bad_request' : request.code;
        socket.end(encodeResponse({ status: 'error', code, reason: request.message }));
        return;
      }
      const action = typeof reply === 'function' ? reply(request) : reply;
      if (action === 'hang') return; // the client's deadline must fire
      if (action === 'close') socket.destroy();
      else if ('raw' in action) socket.end(action.raw);
      else socket.end(encodeResponse(action));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    exchanges,
    setReply(next) {
      reply = next;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
