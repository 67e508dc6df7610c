// The web-echo baseline: the same console page, served the same way, but its
// terminal's WebSocket ends in a trivial echo instead of jmp-socket → jmp-ssh
// → the target. It speaks just enough of jmp-socket's /terminal protocol for
// the page: `open` is acknowledged at once with a prompt, each `data` message
// comes back as output (with the acknowledgement the page sends for every
// output chunk, as jmp-socket's output window asks for), Backspace and
// Ctrl-U edit the line. /v1 goes to jmp-api so the page can log in and list
// hosts. Runs in the bench's process, as the jmp-socket it stands beside.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server as IoServer } from 'socket.io';
import { webConsole } from '../../../services/socket/src/http/web-console.js';
import { apiProxy } from '../../../services/socket/src/http/api-proxy.js';

export interface EchoConsole {
  url: string;
  close(): Promise<void>;
}

export async function startEchoConsole(webDir: string, apiUrl: string, prompt: string): Promise<EchoConsole> {
  const app = express();
  app.use('/v1', apiProxy(apiUrl));
  app.use(webConsole(webDir));
  const http: HttpServer = createServer(app);
  const io = new IoServer(http, { path: '/socket.io', transports: ['websocket'], serveClient: false });
  io.of('/terminal').on('connection', (socket) => {
    const out = (s: string) =>
      socket.emit('data', Buffer.from(s), () => {
        /* the page took it */
      });
    socket.once('open', (_req: unknown, ack?: (a: { ok: boolean }) => void) => {
      ack?.({ ok: true });
      out(prompt);
      socket.on('data', (d: string | Buffer) => {
        let echo = '';
        for (const c of typeof d === 'string' ? d : d.toString('latin1')) {
          if (c === '\x7f' || c === '\b') echo += '\b \b';
          else if (c === '\r') echo += `\r\n${prompt}`;
          else if (c === '\x15') echo += `\r\x1b[K${prompt}`;
          else if (c >= ' ') echo += c;
        }
        if (echo) out(echo);
      });
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: async () => {
      http.closeAllConnections();
      await new Promise((r) => io.close(() => r(undefined)));
    },
  };
}
