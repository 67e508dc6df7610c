// Test support: jmp-rdp in process in front of a real jmp-api, its log lines
// kept in memory (tests search them for secrets), and a ws client that sends
// the web session cookie as a browser does.
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import WebSocket from 'ws';
import { ApiClient } from '@jmp/contract';
import { loadConfig, type Logger } from '@jmp/runtime';
import type { TestApi } from '../../api/test/harness.js';
import { addGrant, addHost, addUser, webLogin } from '../../api/test/harness.js';
import { LocalStore } from '@jmp/recording';
import { rdpConfigSpec } from '../src/config.js';
import { storeRecording } from '../src/desktop/recording.js';
import { createRdpServer, type RdpServer } from '../src/server.js';

export interface RunningRdp extends RdpServer {
  url: string;
  /** The recording store's directory (file:// URIs point below it). */
  storeDir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startRdp(api: TestApi, guacdPort: number, env: Record<string, string> = {}): Promise<RunningRdp> {
  const config = loadConfig(rdpConfigSpec, {
    JMP_API_URL: api.url,
    JMP_SERVICE_TOKEN: api.serviceToken('rdp'),
    JMP_RDP_GUACD: `127.0.0.1:${guacdPort}`,
    JMP_RDP_RECORDING_DIR: mkdtempSync(join(tmpdir(), 'jmp-rdp-rec-')),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ level: 'debug' }, sink) as unknown as Logger;
  const apiClient = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${config.serviceToken}` });
  const storeDir = mkdtempSync(join(tmpdir(), 'jmp-rdp-store-'));
  const store = new LocalStore({ dir: storeDir, fsync: false });
  const onEnded = (d: { id: string; startedAt: Date }) =>
    storeRecording(
      { store, dir: config.recordingDir, partBytes: 64 * 1024 * 1024, maxBytes: 1024 ** 3, log, settleMs: 300 },
      d.id,
      d.startedAt,
    );
  const s = createRdpServer({ config, api: apiClient, log, onEnded });
  await new Promise<void>((r) => s.http.listen(0, '127.0.0.1', r));
  const port = (s.http.address() as AddressInfo).port;
  return {
    ...s,
    url: `ws://127.0.0.1:${port}`,
    storeDir,
    logs,
    close: async () => {
      s.desktops.stopHeartbeat();
      for (const d of s.desktops.all()) d.end('stopping', 'test over');
      s.lite.closeAll();
      s.http.closeAllConnections();
      await new Promise<void>((r) => s.http.close(() => r()));
      rmSync(storeDir, { recursive: true, force: true });
      rmSync(config.recordingDir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery';

/** A person logged in to the console, with the login right on a fresh host of the given kind. */
export async function person(api: TestApi, opts: { kind?: string; right?: boolean; username?: string } = {}) {
  const u = await addUser(api.db, { password: PASSWORD, ...(opts.username ? { username: opts.username } : {}) });
  const h = await addHost(api.db, { kind: opts.kind ?? 'linux', addresses: ['10.99.0.5'] });
  if (opts.right !== false)
    await addGrant(api.db, { subject_id: u.id, scope_type: 'host', scope_id: h.id, right: 'login' });
  const { cookie } = await webLogin(api, u.username, PASSWORD);
  const token = async () => {
    const r = await api.call('POST', '/v1/desktop/tokens', { headers: cookie, body: { host: h.hostname } });
    if (r.status !== 201) throw new Error(`token: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token as string;
  };
  return { u, h, cookie: cookie.cookie, headers: cookie, token };
}

export interface Opened {
  ws: WebSocket;
  /** Text messages from jmp-rdp, in order. */
  messages: string[];
  /** Resolves with the HTTP status of a refused upgrade, or 101. */
  status: Promise<number>;
  closed: Promise<void>;
  waitFor(re: RegExp, ms?: number): Promise<string>;
}

export function openDesktop(url: string, token: string, cookie: string, query = ''): Opened {
  const ws = new WebSocket(`${url}/rdp/connect?token=${encodeURIComponent(token)}${query}`, 'guacamole', {
    headers: { cookie },
  });
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (m: Buffer) => {
    messages.push(m.toString());
    for (const w of waiters.splice(0)) w();
  });
  ws.on('error', () => {});
  const status = new Promise<number>((resolve) => {
    ws.once('upgrade', () => resolve(101));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  const waitFor = (re: RegExp, ms = 5000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no message like ${re} in ${ms} ms: ${messages.join(' | ').slice(0, 500)}`)),
        ms,
      );
      const check = () => {
        const m = messages.find((x) => re.test(x));
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    });
  return { ws, messages, status, closed, waitFor };
}

export const instr = (...el: string[]) => el.map((e) => `${[...e].length}.${e}`).join(',') + ';';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
