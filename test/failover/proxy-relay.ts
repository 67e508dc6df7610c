// A one-upstream stand-in for the balancer: each connection to it is relayed
// to `target` after a PROXY protocol v1 header naming the real client, as
// nginx's `proxy_protocol on;` does. Tests use it to reach one jmp-ssh
// instance directly while it runs with JMP_SSH_PROXY_PROTOCOL=on.
import net from 'node:net';
import { once } from 'node:events';

export interface ProxyRelay {
  port: number;
  close(): Promise<void>;
}

export async function startProxyRelay(target: number, targetHost = '127.0.0.1'): Promise<ProxyRelay> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const up = net.connect({ port: target, host: targetHost });
    for (const s of [client, up]) {
      open.add(s);
      s.once('close', () => open.delete(s));
      s.on('error', () => {
        client.destroy();
        up.destroy();
      });
    }
    up.once('connect', () => {
      up.write(`PROXY TCP4 ${client.remoteAddress} ${up.remoteAddress} ${client.remotePort} ${up.remotePort}\r\n`);
      client.pipe(up).pipe(client);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
