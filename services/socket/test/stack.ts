// Test support: jmp-socket (in process, or as its own process from main.ts)
// in front of a real jmp-ssh and jmp-api, and socket.io-client as the
// browser: it sends the cookie and an Origin as a browser does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ssh2 from 'ssh2';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { ApiClient } from '@jmp/contract';
import { createLogger } from '@jmp/runtime';
import type { TerminalExit, TerminalOpenAck, TerminalPrompt } from '@jmp/contract/schemas/web';
import type { TestApi } from '../../api/test/harness.js';
import type { RunningSsh } from '../../ssh/test/jmp-ssh.js';
import { createSocketServer, type SocketServerDeps } from '../src/server.js';
import { createSocketMetrics, type SocketMetrics } from '../src/metrics.js';
import { fingerprintOf, parseHostKeyPin } from '../src/ssh/host-key-pin.js';

export const REPO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** jmp-ssh's host key as the SHA256 fingerprint jmp-socket pins. */
export function sshFingerprint(ssh: RunningSsh): string {
  const key = ssh2.utils.parseKey(readFileSync(ssh.hostKeyPath));
  if (key instanceof Error) throw key;
  return fingerprintOf(key.getPublicSSH());
}

export interface RunningSocket {
  url: string;
  origin: string;
  metrics: SocketMetrics;
  close(): Promise<void>;
}

type Over = Partial<SocketServerDeps['config']> & { terminal?: SocketServerDeps['terminal'] };

export async function startSocket(
  api: TestApi,
  ssh: RunningSsh | { port: number; fingerprint: string },
  over: Over = {},
): Promise<RunningSocket> {
  const { terminal, ...config } = over;
  const pin = parseHostKeyPin('fingerprint' in ssh ? ssh.fingerprint : sshFingerprint(ssh));
  if (typeof pin === 'string') throw new Error(pin);
  const metrics = createSocketMetrics();
  const client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('socket')}` });
  const s = createSocketServer({
    config: { apiUrl: api.url, sshHost: '127.0.0.1', sshPort: ssh.port, sshHostKey: pin, proxyApi: false, ...config },
    api: client,
    log: createLogger('jmp-socket', process.env.JMP_TEST_LOG_LEVEL ?? 'silent'),
    metrics,
    ...(terminal ? { terminal } : {}),
  });
  await new Promise<void>((r) => s.http.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(s.http.address() as AddressInfo).port}`;
  return {
    url,
    origin: url,
    metrics,
    close: async () => {
      for (const t of s.terminals) t.end('test over');
      s.http.closeAllConnections();
      await new Promise((r) => s.io.close(() => r(undefined)));
    },
  };
}

export interface SocketProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** jmp-socket as its own process, from main.ts (for memory and drain measurements). */
export async function spawnSocket(
  api: TestApi,
  ssh: RunningSsh,
  env: Record<string, string> = {},
): Promise<SocketProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/socket/src/main.ts'], {
    cwd: REPO_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      JMP_API_URL: api.url,
      JMP_SERVICE_TOKEN: api.serviceToken('socket'),
      JMP_SSH_HOST: '127.0.0.1',
      JMP_SSH_PORT: String(ssh.port),
      JMP_SSH_HOST_KEY: sshFingerprint(ssh),
      JMP_SOCKET_LISTEN: '127.0.0.1:0',
      JMP_LOG_LEVEL: 'warn',
      JMP_DRAIN_SECONDS: '5',
      ...env,
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`jmp-socket did not start: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /jmp-socket is listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`jmp-socket exited with ${code}: ${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    child,
    stop: () =>
      new Promise((r) => {
        if (child.exitCode !== null) return r(child.exitCode);
        child.once('exit', (code) => r(code));
        child.kill('SIGTERM');
      }),
  };
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Connects like the console does; rejects with the connect_error (its message says why). */
export function connectTerminal(url: string, headers: { cookie?: string; origin?: string }): Promise<ClientSocket> {
  const socket = ioClient(`${url}/terminal`, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
    extraHeaders: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >,
  });
  return new Promise((resolveSocket, reject) => {
    socket.once('connect', () => resolveSocket(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(err);
    });
  });
}

/** A browser tab's terminal: collects output (acking it unless told not to), prompts and the exit. */
export class Terminal {
  readonly chunks: Buffer[] = [];
  readonly prompts: TerminalPrompt[] = [];
  /** Acks held back while `autoAck` is false. */
  readonly heldAcks: Array<() => void> = [];
  autoAck = true;
  exit: TerminalExit | null = null;
  readonly exited: Promise<TerminalExit>;
  disconnected = false;

  constructor(readonly socket: ClientSocket) {
    socket.on('data', (chunk: Buffer | ArrayBuffer, ack?: () => void) => {
      this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      if (!ack) return;
      if (this.autoAck) ack();
      else this.heldAcks.push(ack);
    });
    socket.on('prompt', (p: TerminalPrompt) => {
      this.prompts.push(p);
    });
    this.exited = new Promise((r) =>
      socket.on('exit', (e: TerminalExit) => {
        this.exit = e;
        r(e);
      }),
    );
    socket.on('disconnect', () => {
      this.disconnected = true;
    });
  }

  static async connect(url: string, headers: { cookie?: string; origin?: string }): Promise<Terminal> {
    return new Terminal(await connectTerminal(url, headers));
  }

  open(host: string | null, cols = 120, rows = 40): Promise<TerminalOpenAck> {
    return this.socket.timeout(60_000).emitWithAck('open', { host, cols, rows }) as Promise<TerminalOpenAck>;
  }

  send(data: string | Uint8Array): void {
    this.socket.emit('data', data);
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  received(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0);
  }
  text(): string {
    return this.bytes().toString('utf8');
  }

  async until(re: RegExp, ms = 15_000, from = 0): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const t = this.bytes().subarray(from).toString('utf8');
      if (re.test(t)) return t;
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${re}; screen so far:\n${JSON.stringify(t.slice(-2000))}${this.exit ? `\nexit: ${this.exit.reason}` : ''}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  releaseAcks(): void {
    this.autoAck = true;
    for (const a of this.heldAcks.splice(0)) a();
  }

  close(): void {
    this.socket.close();
  }
}

/** Value of one metric (first sample without labels, or summed over labels) from /metrics. */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0,
    found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      found = true;
    }
  }
  if (!found) throw new Error(`metric ${name} not found`);
  return sum;
}

export { until } from '../../../test/lib/until.js';
