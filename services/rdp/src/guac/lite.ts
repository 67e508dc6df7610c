// guacamole-lite 1.2.0 as jmp-rdp uses it, with its faults handled here:
// - its constructor adds SIGINT/SIGTERM handlers that close everything and
//   never exit: they are removed at once; jmp's drain stops the service;
// - it drops guacd after 10 s without a byte (a slow RDP login, a target that
//   does not answer): its timer is replaced by JMP_RDP_GUACD_IDLE_SECONDS;
// - it decodes each chunk from guacd on its own, so a UTF-8 character split
//   across two TCP reads turns into U+FFFD: the socket decodes as a stream;
// - it decodes the token as ASCII: jmp-rdp's tokens are ASCII (token.ts);
// - an async processConnectionSettings is ignored and a bad token still
//   connects to guacd: jmp-rdp resolves and checks everything before a
//   socket ever reaches guacamole-lite (http/upgrade.ts), and gives it no
//   processConnectionSettings at all.
// Each connection's own behaviour (buffers, counting, end) comes from a hook
// called once guacamole-lite has opened the guacd socket.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '@jmp/runtime';

const require = createRequire(import.meta.url);

/** The parts of guacamole-lite's GuacdClient jmp-rdp touches. */
export interface GuacdClient extends EventEmitter {
  guacdConnection: Socket;
  activityCheckInterval: NodeJS.Timeout;
  lastActivity: number;
  state: number;
  STATE_CLOSED: number;
  close(error?: Error): void;
}
/** The parts of guacamole-lite's ClientConnection jmp-rdp touches. */
export interface ClientConnection extends EventEmitter {
  webSocket: WebSocket;
  guacdClient?: GuacdClient;
  connectionId: number;
  close(error?: Error): void;
  sendErrorToClient(message: string, code?: string): void;
}
interface LiteServer extends EventEmitter {
  webSocketServer: WebSocketServer;
  activeConnections: Map<number, ClientConnection>;
  sigTermHandler: (() => void) | null;
  sigIntHandler: (() => void) | null;
  newConnection(ws: WebSocket, req: { url: string }): Promise<void>;
}
type LiteCtor = new (ws: object, guacd: object, client: object, callbacks?: object) => LiteServer;

const GuacamoleLite = require('guacamole-lite') as LiteCtor;
const ClientConnectionClass = require('guacamole-lite/lib/ClientConnection.js') as {
  prototype: { connect(this: ClientConnection, guacd: object): void };
};

export type ConnectionHook = (c: ClientConnection & { guacdClient: GuacdClient }) => void;
const hooks = new WeakMap<WebSocket, ConnectionHook>();

// Once per process: after guacamole-lite's connect() opened the guacd socket,
// run the hook of this WebSocket (jmp-rdp's per-connection behaviour).
const originalConnect = ClientConnectionClass.prototype.connect;
ClientConnectionClass.prototype.connect = function (this: ClientConnection, guacd: object) {
  originalConnect.call(this, guacd);
  const hook = hooks.get(this.webSocket);
  if (hook && this.guacdClient) hook(this as ClientConnection & { guacdClient: GuacdClient });
};

export interface Lite {
  /** guacamole-lite's WebSocket server (noServer): jmp-rdp calls handleUpgrade itself. */
  wss: WebSocketServer;
  /** The key of the tokens handed to open(); made at start-up, never leaves the process. */
  key: Buffer;
  /** Hands an upgraded, checked WebSocket to guacamole-lite with a token jmp-rdp made. */
  open(ws: WebSocket, token: string, hook: ConnectionHook): Promise<void>;
  /** Ends every connection (drain bound reached). */
  closeAll(): void;
}

export interface LiteOptions {
  guacd: { host: string; port: number };
  /** Largest message a page may send (ws maxPayload). */
  maxPayload: number;
  guacdIdleMs: number;
  log: Logger;
}

export function createLite(o: LiteOptions): Lite {
  const key = randomBytes(32);
  const server = new GuacamoleLite(
    { noServer: true, port: undefined, maxPayload: o.maxPayload, perMessageDeflate: false },
    o.guacd,
    {
      crypt: { cypher: 'AES-256-CBC', key },
      // Its client inactivity check would end desktops in background tabs (browsers slow their timers).
      maxInactivityTime: 0,
      // ERRORS only: at higher levels it logs every instruction, the connect instruction's password included.
      log: {
        level: 'ERRORS',
        stdLog: (...a: unknown[]) => o.log.debug({ lite: a.map(String).join(' ') }, 'guacamole-lite'),
        errorLog: (...a: unknown[]) => o.log.info({ lite: a.map(String).join(' ') }, 'guacamole-lite'),
      },
    },
  );
  for (const [sig, h] of [
    ['SIGTERM', server.sigTermHandler],
    ['SIGINT', server.sigIntHandler],
  ] as const) {
    if (h) process.removeListener(sig, h);
  }
  server.sigTermHandler = null;
  server.sigIntHandler = null;
  // Its own connection listener is not used: open() calls newConnection once the socket is checked.
  server.webSocketServer.removeAllListeners('connection');
  server.on('error', (_c: unknown, err: unknown) => o.log.info({ err }, 'guacamole-lite connection error'));

  const guard: ConnectionHook = (c) => {
    const g = c.guacdClient;
    // A stream decoder instead of chunk.toString(): multi-byte characters split across reads stay whole.
    g.guacdConnection.setEncoding('utf8');
    clearInterval(g.activityCheckInterval);
    g.activityCheckInterval = setInterval(() => {
      if (Date.now() > g.lastActivity + o.guacdIdleMs)
        g.close(new Error(`guacd sent nothing for ${o.guacdIdleMs / 1000} s`));
    }, 1000);
  };

  return {
    wss: server.webSocketServer,
    key,
    async open(ws, token, hook) {
      hooks.set(ws, (c) => {
        guard(c);
        hook(c);
      });
      await server.newConnection(ws, { url: `/?token=${encodeURIComponent(token)}` } as IncomingMessage & {
        url: string;
      });
    },
    closeAll() {
      for (const c of server.activeConnections.values()) c.close(new Error('jmp-rdp is stopping'));
    },
  };
}
