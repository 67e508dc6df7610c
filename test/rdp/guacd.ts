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

/**
 * A bare guacd client (no jmp-rdp): select rdp, answer `args` from `settings`
 * by name, then collect what guacd sends for `ms`. For logins jmp-rdp cannot
 * be made to do, e.g. presenting a spent ticket a second time.
 */
export async function guacdSession(port: number, settings: Record<string, string>, ms: number): Promise<string> {
  const sock = connect(port, '127.0.0.1');
  sock.setEncoding('utf8');
  const enc = (...el: string[]) => el.map((e) => `${[...e].length}.${e}`).join(',') + ';';
  let got = '';
  let answered = false;
  sock.on('data', (d: string) => {
    got += d;
    if (!answered && got.includes(';')) {
      answered = true;
      const first = got.slice(0, got.indexOf(';'));
      const names = first
        .split(',')
        .map((e) => e.slice(e.indexOf('.') + 1))
        .slice(1);
      const values = names.map((n) => (n.startsWith('VERSION_') ? 'VERSION_1_1_0' : (settings[n] ?? '')));
      sock.write(enc('size', '1024', '768', '96') + enc('audio') + enc('video') + enc('image', 'image/png'));
      sock.write(enc('timezone') + enc('connect', ...values));
    }
  });
  sock.on('error', () => {});
  sock.write(enc('select', 'rdp'));
  await new Promise((r) => setTimeout(r, ms));
  sock.destroy();
  return got;
}
