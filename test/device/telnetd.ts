// A telnet device for the tests: inetutils telnetd, started per connection
// the way inetd would (the socket as its stdin and stdout), in a private mount
// namespace whose /etc/passwd and /etc/shadow hold the device account, so
// /bin/login asks for the login and password and runs the device CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { deviceAccount, receivedLines, withAccountFiles } from './legacy-sshd.js';

export interface Telnetd {
  port: number;
  received(): string[];
  stop(): Promise<void>;
}

export async function startTelnetd(account: string, password: string): Promise<Telnetd> {
  const dir = deviceAccount(account, password);
  const children = new Set<ChildProcess>();
  const server: Server = createServer({ pauseOnConnect: true }, (sock) => {
    const child = spawn('unshare', withAccountFiles(dir, '/usr/sbin/telnetd -h'), { stdio: [sock, sock, 'ignore'] });
    children.add(child);
    child.once('exit', () => {
      children.delete(child);
      sock.destroy();
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => receivedLines(dir),
    stop: async () => {
      await new Promise((r) => server.close(r));
      for (const c of children) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
