// jmp-ssh's connection limit is ssh2's own maxConnections, and it holds for
// the sockets jmp-ssh's listener hands in (with and without the PROXY
// protocol): a connection over it is closed before the SSH banner, and the
// refusal is logged with the client's address.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiClient } from '@jmp/contract';
import { createLogger } from '@jmp/runtime';
import { createRecordings } from '@jmp/recording';
import { createSshServer } from '../src/server/server.js';
import { loadOrCreateHostKey } from '../src/server/host-key.js';
import { createSshListener, type ListenerOptions } from '../src/server/listener.js';
import type { SshConfig } from '../src/config.js';

/** No login happens here: any call to jmp-api is a bug in the test. */
const noApi = new Proxy(
  {},
  {
    get: (_t, name) => {
      throw new Error(`jmp-api ${String(name)} must not be called`);
    },
  },
) as ApiClient;

async function start(opts: ListenerOptions, maxConnections: number) {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-ssh-limit-'));
  const config: SshConfig = {
    host: '127.0.0.1',
    port: 0,
    apiUrl: 'http://127.0.0.1:9',
    serviceToken: 'x'.repeat(32),
    hostKeyPath: join(dir, 'host_key'),
    idleTimeoutSeconds: 600,
    maxSessionsPerUser: 10,
    maxConnections,
    targetPort: 22,
    guardFailOpen: false,
    logLevel: 'silent',
    recording: { dir: join(dir, 'recordings'), spoolDir: join(dir, 'spool') },
  };
  const log = createLogger('jmp-ssh', 'silent');
  const warned: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  log.warn = ((obj: Record<string, unknown>, msg: string) => {
    warned.push({ obj, msg });
  }) as typeof log.warn;
  const server = createSshServer({
    config,
    api: noApi,
    log,
    hostKey: loadOrCreateHostKey(config.hostKeyPath),
    recordings: createRecordings(config.recording),
  });
  const listener = createSshListener(server, log, opts);
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  return {
    port: (listener.address() as net.AddressInfo).port,
    warned,
    close: () => new Promise<void>((r) => listener.close(() => r())),
  };
}

/** A connection that first writes `preamble`; resolves with the SSH banner, or '' when closed without one. */
async function connect(port: number, preamble: string | null): Promise<{ sock: net.Socket; banner: string }> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await once(sock, 'connect');
  if (preamble !== null) sock.write(preamble);
  const banner = await new Promise<string>((resolve) => {
    let got = '';
    const t = setTimeout(() => resolve(got || 'still open'), 3000);
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\n')) {
        clearTimeout(t);
        sock.off('data', onData);
        resolve(got);
      }
    };
    sock.on('data', onData);
    sock.once('close', () => {
      clearTimeout(t);
      resolve(got);
    });
    sock.on('error', () => {});
  });
  return { sock, banner };
}

async function closed(sock: net.Socket): Promise<void> {
  sock.destroy();
  if (!sock.closed) await once(sock, 'close');
  await new Promise((r) => setTimeout(r, 50)); // ssh2 counts the close on its own listener
}

for (const [name, opts, preamble] of [
  ['PROXY protocol off', { proxyProtocol: false, proxyTrusted: [] }, null],
  [
    'PROXY protocol on',
    { proxyProtocol: true, proxyTrusted: ['127.0.0.1'], headerTimeoutMs: 1000 },
    'PROXY TCP4 203.0.113.7 127.0.0.1 40001 2200\r\n',
  ],
] as const) {
  describe(name, () => {
    test('a connection over maxConnections is closed before the banner and logged; a freed place is taken again', async () => {
      const ssh = await start(opts, 2);
      const open: net.Socket[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const c = await connect(ssh.port, preamble);
          open.push(c.sock);
          assert.match(c.banner, /^SSH-2\.0-jmp/, `connection ${i + 1} of 2 is served`);
        }
        const over = await connect(ssh.port, preamble);
        open.push(over.sock);
        assert.equal(over.banner, '', 'the third connection is refused');
        const refusals = ssh.warned.filter((w) => w.msg === 'connection refused: too many connections');
        assert.equal(refusals.length, 1);
        assert.deepEqual(refusals[0]!.obj, { source: preamble ? '203.0.113.7' : '127.0.0.1', limit: 2 });
        await closed(open.shift()!);
        const again = await connect(ssh.port, preamble);
        open.push(again.sock);
        assert.match(again.banner, /^SSH-2\.0-jmp/, 'a closed connection frees its place');
      } finally {
        for (const s of open) s.destroy();
        await ssh.close();
      }
    });
  });
}
