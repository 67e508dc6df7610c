// jmp-ssh's transport algorithms against ssh-audit (Debian package ssh-audit,
// scripts/apt/ssh-audit.txt): no failure and no warning, strict key exchange
// offered, an ed25519 host key, no compression. Then the clients that must
// still agree with it: ssh2 with its defaults (jmp-socket's web terminal,
// the tests) and the OpenSSH client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type ssh2 from 'ssh2';
import { Client } from 'ssh2';
import { ApiClient } from '@jmp/contract';
import { createLogger } from '@jmp/runtime';
import { createRecordings } from '@jmp/recording';
import { createSshServer } from '../src/server/server.js';
import { loadOrCreateHostKey } from '../src/server/host-key.js';
import { SERVER_ALGORITHMS } from '../src/server/algorithms.js';
import type { SshConfig } from '../src/config.js';

const run = promisify(execFile);
const SSH_AUDIT = process.env.JMP_TEST_SSH_AUDIT ?? 'ssh-audit';

let server: ssh2.Server, port: number, dir: string;
const open = new Set<ssh2.Connection>();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jmp-ssh-audit-'));
  // Only the transport is audited: no login happens, so no jmp-api is needed.
  const config: SshConfig = {
    host: '127.0.0.1',
    port: 0,
    apiUrl: 'http://127.0.0.1:9',
    serviceToken: 'x'.repeat(32),
    hostKeyPath: join(dir, 'host_key'),
    idleTimeoutSeconds: 60,
    maxSessionsPerUser: 1,
    maxConnections: 10,
    targetPort: 22,
    guardFailOpen: false,
    logLevel: 'silent',
    recording: { dir: join(dir, 'recordings'), spoolDir: join(dir, 'spool') },
  };
  const api = new ApiClient({ baseUrl: config.apiUrl, authorization: () => 'Bearer none' });
  server = createSshServer({
    config,
    api,
    log: createLogger('jmp-ssh', 'silent'),
    hostKey: loadOrCreateHostKey(config.hostKeyPath),
    recordings: createRecordings(config.recording),
  });
  // close() waits for every connection: a client that never finished (ssh-audit's probes, a handshake
  // cut short) would keep this file's process, and the whole run after it, alive. They are ended at the end.
  server.on('connection', (c: ssh2.Connection) => {
    open.add(c);
    c.on('close', () => open.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  const closed = new Promise<void>((r) => server.close(() => r()));
  for (const c of open) c.end();
  await closed;
  rmSync(dir, { recursive: true, force: true });
});

interface Finding {
  section: string;
  name: string;
  level: 'fail' | 'warn';
  text: string;
}

/** The [fail] and [warn] notes of ssh-audit's text report, each with the algorithm line it belongs to. */
function findings(report: string): Finding[] {
  const out: Finding[] = [];
  let section = '',
    name = '';
  for (const line of report.split('\n')) {
    const head = /^\((\w+)\) (\S+)/.exec(line);
    if (head) {
      section = head[1]!;
      name = head[2]!;
    }
    for (const m of line.matchAll(/\[(fail|warn)\] ([^\n]*)/g))
      out.push({ section, name, level: m[1] as 'fail' | 'warn', text: m[2]!.trim() });
  }
  return out;
}

test('ssh-audit reports no failure and no warning', async () => {
  // Exit codes: 0 good, 1 warnings, 2 failures, 3 unknown; the report is read either way.
  const r = await run(SSH_AUDIT, ['-n', '-t', '10', '-p', String(port), '127.0.0.1'], { timeout: 60_000 }).catch(
    (e: { stdout?: string; stderr?: string; code?: number | string }) => {
      if (e.code === 'ENOENT')
        throw new Error(`${SSH_AUDIT} is not installed (Debian package ssh-audit; scripts/apt/ssh-audit.txt)`);
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    },
  );
  assert.match(r.stdout, /\(gen\) banner: SSH-2\.0-jmp/, `no report:\n${r.stdout}\n${r.stderr}`);
  // Debian 12's ssh-audit (2.5.0) predates strict key exchange (the Terrapin fix, 2023) and calls its
  // marker an unknown algorithm; newer versions check for it. That one note is not a weakness.
  const problems = findings(r.stdout).filter(
    (f) => !(f.name === 'kex-strict-s-v00@openssh.com' && f.text === 'unknown algorithm'),
  );
  assert.deepEqual(problems, [], `ssh-audit:\n${r.stdout}`);
  assert.match(r.stdout, /\(kex\) kex-strict-s-v00@openssh\.com/, 'strict key exchange must be offered');
  assert.match(r.stdout, /\(gen\) compression: disabled/);
  assert.match(r.stdout, /\(key\) ssh-ed25519/);
});

test('the offer names exactly the hardened lists (JSON report)', async () => {
  const r = await run(SSH_AUDIT, ['-j', '-t', '10', '-p', String(port), '127.0.0.1'], { timeout: 60_000 }).catch(
    (e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }),
  );
  const j = JSON.parse(r.stdout) as {
    kex: Array<{ algorithm: string }>;
    key: Array<{ algorithm: string }>;
    enc: string[];
    mac: string[];
    compression: string[];
  };
  assert.deepEqual(
    j.kex.map((k) => k.algorithm),
    [...SERVER_ALGORITHMS.kex, 'kex-strict-s-v00@openssh.com'],
  );
  assert.deepEqual(
    j.key.map((k) => k.algorithm),
    ['ssh-ed25519'],
  );
  assert.deepEqual(j.enc, [...SERVER_ALGORITHMS.cipher]);
  assert.deepEqual(j.mac, [...SERVER_ALGORITHMS.hmac]);
  assert.deepEqual(j.compression, ['none']);
  for (const a of [...j.kex.map((k) => k.algorithm), ...j.mac]) assert.doesNotMatch(a, /sha1|nistp|md5/, a);
  for (const m of j.mac) assert.match(m, /-etm@openssh\.com$/, m);
});

test('an ssh2 client with its default algorithms (jmp-socket, tests) still negotiates', async () => {
  const negotiated = await new Promise<ssh2.NegotiatedAlgorithms>((resolve, reject) => {
    const c = new Client();
    c.once('handshake', (n) => {
      c.end();
      resolve(n);
    });
    c.once('error', reject);
    c.connect({ host: '127.0.0.1', port, username: 'nobody', password: 'x', readyTimeout: 10_000 });
  });
  assert.match(negotiated.kex, /^curve25519-sha256/);
  assert.equal(negotiated.serverHostKey, 'ssh-ed25519');
  assert.match(negotiated.cs.cipher, /gcm|chacha20-poly1305/);
});

test('the OpenSSH client negotiates with its defaults', async (t) => {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
  } catch {
    t.skip('no ssh client');
    return;
  }
  // BatchMode: no password prompt; the handshake is all that is checked (-v shows the kex and cipher).
  const known = join(dir, 'known_hosts');
  writeFileSync(known, '');
  chmodSync(known, 0o600);
  const r = await run(
    'ssh',
    [
      '-v',
      '-p',
      String(port),
      '-o',
      'BatchMode=yes',
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      `UserKnownHostsFile=${known}`,
      '-o',
      'ConnectTimeout=10',
      '-F',
      '/dev/null',
      'nobody@127.0.0.1',
      'true',
    ],
    { timeout: 30_000 },
  ).catch((e: { stderr?: string }) => ({ stderr: e.stderr ?? '' }));
  assert.match(r.stderr, /kex: algorithm: curve25519-sha256/, r.stderr);
  assert.match(r.stderr, /kex: host key algorithm: ssh-ed25519/);
  assert.match(r.stderr, /Authenticated|Permission denied|No more authentication methods/);
});
