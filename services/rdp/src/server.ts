// jmp-rdp's HTTP server: WebSocket upgrades for desktops (checked before they
// happen, http/upgrade.ts), /healthz and /metrics-free plain answers otherwise.
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { RdpConfig } from './config.js';
import { createLite, type Lite } from './guac/lite.js';
import { Desktops } from './sessions/desktops.js';
import { handleUpgrade } from './http/upgrade.js';
import type { DesktopSession } from './desktop/session.js';

/** Largest message a page may send: input events and clipboard text, never bulk data. */
export const MAX_CLIENT_MESSAGE = 1024 * 1024;

export interface RdpServerDeps {
  config: RdpConfig;
  api: ApiClient;
  log: Logger;
  /** Stores a desktop's recording once it ended; answers its URI (recording/store.ts). */
  onEnded?: (s: DesktopSession) => Promise<string | undefined>;
}

export interface RdpServer {
  http: Server;
  lite: Lite;
  desktops: Desktops;
  instance: string;
}

export function createRdpServer({ config, api, log, onEnded }: RdpServerDeps): RdpServer {
  const instance = `rdp:${hostname()}:${process.pid}`;
  const lite = createLite({
    guacd: config.guacd,
    maxPayload: MAX_CLIENT_MESSAGE,
    guacdIdleMs: config.guacdIdleSeconds * 1000,
    log,
  });
  const desktops = new Desktops(api, instance, log, config.maxPerUser);
  const http = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${desktops.size} desktops\n`);
      return;
    }
    res.writeHead(426, { 'content-type': 'text/plain' }).end('desktops connect with a WebSocket to /rdp/connect\n');
  });
  http.on(
    'upgrade',
    handleUpgrade({
      api,
      log,
      lite,
      desktops,
      instance,
      maxPerUser: config.maxPerUser,
      recordingDir: config.recordingDir,
      driveDir: join(dirname(config.recordingDir), 'drives'),
      ignoreCert: config.ignoreCert,
      credentialsMs: config.credentialsSeconds * 1000,
      session: {
        bufferBytes: config.clientBufferBytes,
        stallMs: config.clientStallSeconds * 1000,
        ...(onEnded ? { onEnded } : {}),
      },
    }),
  );
  return { http, lite, desktops, instance };
}
