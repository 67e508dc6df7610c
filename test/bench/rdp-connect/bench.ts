// rdp-connect (see run): jmp-rdp against a bare guacamole-lite relay, the
// same guacd and the same xrdp host (a local account: typed credentials).
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { alternate, median, medianRatio, roundCount, round3 } from '../lib/method.js';
import { ACCOUNT, startWindowsLab } from '../../rdp/windows-lab.js';
import { openDesktop, instr } from '../../../services/rdp/test/stack.js';
import { liteToken } from '../../../services/rdp/src/guac/token.js';

const require = createRequire(import.meta.url);
const GuacamoleLite = require('guacamole-lite') as new (
  ws: object,
  g: object,
  c: object,
) => {
  webSocketServer: { address(): AddressInfo | string | null; close(): void };
  close(): void;
};

const MOVING =
  "exec xterm -geometry 100x40+0+0 -e sh -c 'while :; do date +%T.%N; ls -l /usr/bin | head -40; sleep 0.02; done'";
const CPU_MS = Number(process.env.BENCH_CPU_MS ?? 4000);
const BENCH = 'rdp-connect';

const work = mkdtempSync(join(tmpdir(), 'jmp-rdp-bench-'));
const w = await startWindowsLab(work, MOVING);
const key = randomBytes(32);
const bare = new GuacamoleLite(
  { port: 0, host: '127.0.0.1' },
  { host: '127.0.0.1', port: w.guacd.port },
  {
    crypt: { cypher: 'AES-256-CBC', key },
    maxInactivityTime: 0,
    log: { level: 0 }, // QUIET (its string form is not recognised: LOGLEVEL.QUIET is 0)
  },
);
await new Promise((r) => setTimeout(r, 100));
const barePort = (bare.webSocketServer.address() as AddressInfo).port;
const address = w.lab.host('w1').address;

interface Figure {
  connectMs: number;
  cpuPerSec: number;
}

/** Resolves on the first sync after at least one image: the first full frame. */
function firstFrame(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    let img = false;
    const on = (m: Buffer) => {
      const t = m.toString();
      if (/(^|;)3\.img,/.test(t)) img = true;
      if (img && /(^|;)4\.sync,/.test(t)) {
        ws.off('message', on);
        resolve();
      }
    };
    ws.on('message', on);
  });
}

async function movingCpu(ws: WebSocket): Promise<number> {
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, CPU_MS));
  const c = process.cpuUsage(c0);
  ws.close();
  return (c.user + c.system) / 1e6 / (CPU_MS / 1000);
}

const p = await w.person();
const jmp = async (): Promise<Figure> => {
  const t0 = performance.now();
  const d = openDesktop(w.rdp.url, await p.token(), p.cookie);
  const frame = firstFrame(d.ws);
  await d.waitFor(/^0\.,/);
  d.ws.send(instr('jmp-login', ACCOUNT.name, '', ACCOUNT.password));
  await frame;
  const connectMs = performance.now() - t0;
  const cpuPerSec = await movingCpu(d.ws);
  await d.closed;
  return { connectMs, cpuPerSec };
};
const plain = async (): Promise<Figure> => {
  const t0 = performance.now();
  const settings = {
    hostname: address,
    port: '3389',
    username: ACCOUNT.name,
    password: ACCOUNT.password,
    security: 'any',
    'ignore-cert': 'true',
  };
  const token = liteToken(key, { connection: { type: 'rdp', settings } });
  const ws = new WebSocket(`ws://127.0.0.1:${barePort}/?token=${encodeURIComponent(token)}`);
  ws.on('error', () => {});
  await firstFrame(ws);
  const connectMs = performance.now() - t0;
  const cpuPerSec = await movingCpu(ws);
  return { connectMs, cpuPerSec };
};

try {
  const r = await alternate<Figure, Figure>({
    bench: BENCH,
    rounds: roundCount(3),
    a: { name: 'bare guacamole-lite', run: plain },
    b: { name: 'jmp-rdp', run: jmp },
    describe: (f) => `first frame ${f.connectMs.toFixed(0)} ms, ${(f.cpuPerSec * 1000).toFixed(1)} ms CPU per s`,
  });
  const out = {
    bench: BENCH,
    connect_ratio: medianRatio(
      r,
      (b) => b.connectMs,
      (a) => a.connectMs,
    ),
    cpu_ratio: medianRatio(
      r,
      (b) => b.cpuPerSec,
      (a) => a.cpuPerSec,
    ),
    first_frame_ms: round3(median(r.b.map((b) => b.connectMs))),
    bare_first_frame_ms: round3(median(r.a.map((a) => a.connectMs))),
    rounds: r.rounds,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  bare.close();
  await w.close();
  rmSync(work, { recursive: true, force: true });
}
