// Test helpers: jmp-ssh in-process against a real jmp-api, and an ssh2
// client that logs in and reads what the person would see.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ssh2, { Client, type ClientChannel } from 'ssh2';
import { ApiClient } from '@jmp/contract';
import { createLogger } from '@jmp/runtime';
import type { TestApi } from '../../api/test/harness.js';
import { createSshServer } from '../src/server/server.js';
import { loadOrCreateHostKey } from '../src/server/host-key.js';
import { createRecordings } from '@jmp/recording';
import type { SshConfig } from '../src/config.js';

export interface RunningSsh {
  port: number;
  hostKeyPath: string;
  recordingDir: string;
  close(): Promise<void>;
}

/** `wrapApi` lets a test stand in for parts of jmp-api (e.g. rules that cannot be loaded). */
export async function startJmpSsh(
  api: TestApi,
  over: Partial<SshConfig> = {},
  wrapApi: (a: ApiClient) => ApiClient = (a) => a,
): Promise<RunningSsh> {
  const hostKeyPath = join(mkdtempSync(join(tmpdir(), 'jmp-ssh-')), 'host_key');
  const config: SshConfig = {
    host: '127.0.0.1',
    port: 0,
    apiUrl: api.url,
    serviceToken: api.serviceToken('ssh'),
    hostKeyPath,
    idleTimeoutSeconds: 600,
    maxSessionsPerUser: 10,
    maxConnections: 100,
    targetPort: 22,
    guardFailOpen: false,
    logLevel: 'silent',
    recording: { dir: join(dirname(hostKeyPath), 'recordings'), spoolDir: join(dirname(hostKeyPath), 'spool') },
    ...over,
  };
  const client = wrapApi(
    new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}` }),
  );
  const server = createSshServer({
    config,
    api: client,
    log: createLogger('jmp-ssh', process.env.JMP_TEST_LOG_LEVEL ?? 'silent'),
    hostKey: loadOrCreateHostKey(hostKeyPath),
    recordings: createRecordings(config.recording),
  });
  const open = new Set<ssh2.Connection>();
  server.on('connection', (c: ssh2.Connection) => {
    open.add(c);
    c.on('close', () => open.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    hostKeyPath,
    recordingDir: config.recording.dir!,
    close: () =>
      new Promise((r) => {
        for (const c of open) c.end();
        server.close(() => r());
      }),
  };
}

export interface Login {
  client: Client;
  instructions: string[];
  prompts: string[];
}

/** Logs in with keyboard-interactive, answering Password and TOTP prompts. */
export function login(
  port: number,
  username: string,
  answers: { password?: string; totp?: () => string; privateKey?: string | Buffer },
): Promise<Login> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const instructions: string[] = [];
    const prompts: string[] = [];
    client.on('keyboard-interactive', (_n, instr, _l, ps, finish) => {
      if (instr) instructions.push(instr);
      prompts.push(...ps.map((p) => p.prompt));
      finish(
        ps.map((p) =>
          /password/i.test(p.prompt)
            ? (answers.password ?? '')
            : /totp/i.test(p.prompt)
              ? (answers.totp?.() ?? '')
              : '',
        ),
      );
    });
    client.once('ready', () => resolve({ client, instructions, prompts }));
    client.once('error', (err) => reject(Object.assign(err, { instructions, prompts })));
    client.connect({
      host: '127.0.0.1',
      port,
      username,
      tryKeyboard: !answers.privateKey,
      ...(answers.privateKey ? { privateKey: answers.privateKey } : {}),
      readyTimeout: 10_000,
    });
  });
}

/** An interactive shell whose output accumulates; `until` waits for a pattern. */
export function shell(
  client: Client,
  pty = { term: 'xterm', cols: 120, rows: 40 },
): Promise<{
  ch: ClientChannel;
  out(): string;
  until(re: RegExp, ms?: number): Promise<string>;
  send(s: string): void;
}> {
  return new Promise((resolve, reject) => {
    client.shell(pty, (err, ch) => {
      if (err) return reject(err);
      let buf = '';
      ch.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
      });
      ch.stderr.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
      });
      resolve({
        ch,
        out: () => buf,
        send: (s) => {
          ch.write(s);
        },
        until: async (re, ms = 10_000) => {
          const end = Date.now() + ms;
          while (!re.test(buf)) {
            if (Date.now() > end) throw new Error(`timed out waiting for ${re}; screen so far:\n${buf.slice(-2000)}`);
            await new Promise((r) => setTimeout(r, 20));
          }
          return buf;
        },
      });
    });
  });
}

export function exec(
  client: Client,
  command: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) return reject(err);
      let stdout = '',
        stderr = '',
        code: number | null = null;
      ch.on('data', (d: Buffer) => {
        stdout += d;
      });
      ch.stderr.on('data', (d: Buffer) => {
        stderr += d;
      });
      ch.on('exit', (c: number) => {
        code = c;
      });
      ch.on('close', () => resolve({ code, stdout, stderr }));
    });
  });
}

export { ssh2 };
