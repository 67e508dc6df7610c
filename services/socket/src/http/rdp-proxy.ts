// Development only (JMP_SOCKET_PROXY_RDP): WebSocket upgrades of /rdp/* are
// passed to jmp-rdp as raw bytes, so the console served here opens desktops
// on its own origin, as it does behind nginx. jmp-rdp answers the upgrade
// itself (it checks the desktop token before it upgrades).
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export const RDP_PATH_PREFIX = '/rdp/';

export function rdpUpgradeProxy(rdpUrl: string) {
  const target = new URL(rdpUrl);
  const port = Number(target.port || 80);
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const upstream: Socket = connect(port, target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? ''}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    const end = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', () => {
      if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      end();
    });
    // A WebSocket has no half-close: when either side ends, both go.
    for (const ev of ['error', 'end', 'close']) socket.on(ev, end);
    for (const ev of ['end', 'close']) upstream.on(ev, end);
  };
}
