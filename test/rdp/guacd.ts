// The real guacd (1.3.0 from bullseye, scripts/apt/rdp.txt) for the desktop
// suites: bound to 127.0.0.1 on a free port (it has no authentication), in the
// foreground, its log in a file; stop() ends it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';

export const GUACD = process.env.JMP_GUACD ?? '/usr/sbin/guacd';

export interface RunningGuacd {
  port: number;
  logFile: string;
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startGuacd(logFile: string): Promise<RunningGuacd> {
  if (!existsSync(GUACD))
    throw new Error(`${GUACD} is missing: make deps installs it (scripts/apt/rdp.txt, bullseye pin)`);
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const p: ChildProcess = spawn(GUACD, ['-f', '-b', '127.0.0.1', '-l', String(port), '-L', 'info'], {
    stdio: ['ignore', out, out],
  });
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (p.exitCode !== null || Date.now() > deadline) throw new Error(`guacd did not start: ${log().slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    logFile,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (p.exitCode !== null) return resolve();
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 3000).unref();
      }),
  };
}
