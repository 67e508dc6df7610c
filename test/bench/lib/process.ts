// Helpers for benchmarks: start a server process and wait for its port.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error(`${url} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const words = (s: string | undefined) => (s ?? '').split(' ').filter(Boolean);

/**
 * Runs a TypeScript entry through tsx, or a bundled .mjs as it runs in production, with the Node
 * flags of BENCH_NODE_FLAGS (every server) and `ownFlags` (this one, e.g. BENCH_API_NODE_FLAGS).
 */
export function startNode(args: string[], env: Record<string, string>, ownFlags?: string): ChildProcess {
  const extra = [...words(process.env.BENCH_NODE_FLAGS), ...words(ownFlags)];
  const loader = args[0]?.endsWith('.mjs') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...extra, ...loader, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.on('exit', (code, sig) => {
    if (code && code !== 0) process.stderr.write(`bench: ${args.join(' ')} exited with ${code ?? sig}\n`);
  });
  return child;
}

export const stop = (c: ChildProcess) =>
  new Promise<void>((r) => {
    if (c.exitCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
  });
