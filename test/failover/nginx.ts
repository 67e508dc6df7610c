// Debian's nginx as a child process with its own prefix, pid, logs, temp
// files and a self-signed certificate for 127.0.0.1 under a test directory.
// No system nginx service is involved.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { testNginxConfig, type TestNginxLayout } from './nginx-config.js';

export const NGINX = process.env.JMP_TEST_NGINX ?? '/usr/sbin/nginx';

export interface RunningNginx {
  dir: string;
  config: string;
  caCert: string;
  process: ChildProcess;
  log(name: string): string;
  stop(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 (subjectAltName IP), valid one day. */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'tls.crt'),
    key = join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

export async function startNginx(dir: string, layout: Omit<TestNginxLayout, 'dir' | 'tls'>): Promise<RunningNginx> {
  // Workers run as www-data: they need to reach the web root and temp files.
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const tls = selfSignedCert(dir);
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, testNginxConfig({ ...layout, dir, tls }));
  for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    const d = join(dir, `${t}_temp`);
    mkdirSync(d, { recursive: true });
    if (userInfo().uid === 0) {
      const w = wwwData();
      chownSync(d, w.uid, w.gid);
    }
  }
  const args = ['-p', dir, '-c', config, '-e', join(dir, 'error.log')];
  try {
    execFileSync(NGINX, [...args, '-t', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(
      `nginx -t rejected the generated config ${config}: ${String((err as { stderr?: Buffer }).stderr ?? err)}`,
    );
  }
  const child = spawn(NGINX, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // nginx binds every listener before it serves any; probing the SSH port
  // would make it connect upstream (and count a failure if one is not up).
  await waitForPorts([layout.ports.http], child, () => stderr);
  return {
    dir,
    config,
    caCert: tls.cert,
    process: child,
    log: (name) => join(dir, name),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
    },
  };
}

function wwwData(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'www-data'])), gid: Number(execFileSync('id', ['-g', 'www-data'])) };
}

async function waitForPorts(ports: number[], child: ChildProcess, stderr: () => string): Promise<void> {
  const { connect } = await import('node:net');
  const end = Date.now() + 10_000;
  for (const port of ports) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr()}`);
      const ok = await new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          r(true);
        });
        s.once('error', () => r(false));
      });
      if (ok) break;
      if (Date.now() > end) throw new Error(`nginx did not listen on ${port} within 10 s: ${stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
