// jmp-socket: an HTTP server with /healthz, /metrics, optionally the console
// and a /v1 pass-through (development), and socket.io's /terminal namespace.
// main.ts and the tests both build it here.
import { createServer, type Server as HttpServer } from 'node:http';
import express from 'express';
import { Server as IoServer } from 'socket.io';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import { TERMINAL_INPUT_MAX_BYTES, TERMINAL_NAMESPACE } from '@jmp/contract/schemas/web';
import type { SocketConfig } from './config.js';
import type { SocketMetrics } from './metrics.js';
import { hostKeyMatches } from './ssh/host-key-pin.js';
import { apiCredentials } from './terminal/credentials.js';
import { attachTerminal, type TerminalDeps, type TerminalHandle } from './terminal/terminal.js';
import { checkHandshake } from './handshake/session.js';
import { webConsole } from './http/web-console.js';
import { apiProxy } from './http/api-proxy.js';
import { RDP_PATH_PREFIX, rdpUpgradeProxy } from './http/rdp-proxy.js';

export interface SocketServerDeps {
  config: Pick<SocketConfig, 'apiUrl' | 'sshHost' | 'sshPort' | 'sshHostKey' | 'webDir' | 'origins' | 'proxyApi'> &
    Partial<Pick<SocketConfig, 'proxyRdp'>>;
  api: ApiClient;
  log: Logger;
  metrics: SocketMetrics;
  /** Test knobs: a smaller output window, shorter timeouts. */
  terminal?: Pick<TerminalDeps, 'windowBytes' | 'connectTimeoutMs' | 'answerTimeoutMs'>;
}

export interface SocketServer {
  http: HttpServer;
  io: IoServer;
  terminals: Set<TerminalHandle>;
}

export function createSocketServer({ config, api, log, metrics, terminal }: SocketServerDeps): SocketServer {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () =>
      metrics.httpDuration.observe(
        {
          method: req.method,
          route: req.path === '/healthz' || req.path === '/metrics' ? req.path : 'other',
          status: String(res.statusCode),
        },
        Number(process.hrtime.bigint() - start) / 1e9,
      ),
    );
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  if (config.proxyApi) app.use('/v1', apiProxy(config.apiUrl));
  if (config.webDir) app.use(webConsole(config.webDir));
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}` } });
  });

  const http = createServer(app);
  const io = new IoServer(http, {
    path: '/socket.io',
    // One websocket per terminal: no long-polling, so no request of a socket
    // can land on another instance (docs/decisions.md).
    transports: ['websocket'],
    // Input messages are at most 64 KiB (a string may take 3 bytes per
    // character in UTF-8 on the wire); anything larger closes the connection.
    maxHttpBufferSize: TERMINAL_INPUT_MAX_BYTES * 3 + 1024,
    serveClient: false,
    // With the development pass-through below, upgrades that are not
    // socket.io's are jmp-rdp's: engine.io must not end them after 1 s.
    destroyUpgrade: !config.proxyRdp,
  });
  if (config.proxyRdp) {
    const pass = rdpUpgradeProxy(config.proxyRdp);
    http.on('upgrade', (req, socket, head) => {
      if (req.url?.startsWith(RDP_PATH_PREFIX)) pass(req, socket, head);
      else if (!req.url?.startsWith('/socket.io')) socket.destroy();
    });
  }
  // Only /terminal exists.
  io.of('/').use((_socket, next) =>
    next(
      Object.assign(new Error(`connect to the ${TERMINAL_NAMESPACE} namespace`), { data: { code: 'bad_namespace' } }),
    ),
  );

  const terminals = new Set<TerminalHandle>();
  const credentials = apiCredentials(api);
  const deps: TerminalDeps = {
    ssh: {
      host: config.sshHost,
      port: config.sshPort,
      verifyHostKey: (blob) => hostKeyMatches(config.sshHostKey, blob),
    },
    credentials,
    log,
    metrics,
    ...terminal,
  };
  const nsp = io.of(TERMINAL_NAMESPACE);
  nsp.use(checkHandshake({ origins: config.origins, credentials, log, metrics }));
  nsp.on('connection', (socket) => {
    const t = attachTerminal(socket, deps);
    terminals.add(t);
    socket.once('disconnect', () => terminals.delete(t));
  });
  return { http, io, terminals };
}
