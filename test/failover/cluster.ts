// A small jmp deployment on loopback, as separate processes so that they can
// be killed: two jmp-api (one Postgres database, one Redis), two jmp-ssh that
// reach jmp-api through nginx, and nginx from packaging/nginx/nginx.conf in
// front of all of them.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  REDIS_URL,
  addUser,
  addProject,
  addService,
  addHost,
  addRole,
} from '../../services/api/test/harness.js';
import { createDb, migrate } from '../../services/api/src/db/knex.js';
import { deriveSecrets, parseMasterSecret } from '../../services/api/src/crypto/secrets.js';
import { mintServiceToken } from '../../services/api/src/http/auth.js';
import { loadOrCreateHostKey } from '../../services/ssh/src/server/host-key.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { freePort, waitForHttp } from '../bench/lib/process.js';
import { startNginx, type RunningNginx } from './nginx.js';
import { generateEd25519KeyPair } from '../../services/ssh/src/server/host-key.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// JMP_FAILOVER_BUNDLES=dist runs the production bundles (node scripts/bundle.mjs)
// instead of the sources.
const BUNDLES = process.env.JMP_FAILOVER_BUNDLES;
const API_MAIN = BUNDLES ? join(ROOT, BUNDLES, 'jmp-api.mjs') : join(ROOT, 'services/api/src/main.ts');
const SSH_MAIN = BUNDLES ? join(ROOT, BUNDLES, 'jmp-ssh.mjs') : join(ROOT, 'services/ssh/src/main.ts');

/** A service process with its JSON log lines kept for assertions. */
export class ServiceProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const parts = (partial + d.toString('utf8')).split('\n');
      partial = parts.pop()!;
      for (const l of parts) {
        try {
          this.lines.push(JSON.parse(l));
        } catch {
          /* not a log line */
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  kill(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
  messages(): string[] {
    return this.lines.map((l) => String(l.msg));
  }
  tail(): string {
    return this.stderr;
  }
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

function startService(
  name: string,
  main: string,
  args: string[],
  port: number,
  env: Record<string, string>,
): ServiceProcess {
  const child = spawn(process.execPath, [...(main.endsWith('.mjs') ? [] : ['--import', 'tsx']), main, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, port, child);
}

export interface Cluster {
  dir: string;
  databaseUrl: string;
  apis: ServiceProcess[];
  sshs: ServiceProcess[];
  nginx: RunningNginx;
  sshPort: number;
  httpsPort: number;
  user: { username: string; password: string; privateKey: string };
  hostname: string;
  close(): Promise<void>;
}

export async function startCluster(opts: { drainSeconds?: number } = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'jmp-failover-'));
  // nginx's workers (www-data) reach the web root and temp files below it.
  chmodSync(dir, 0o755);
  const database = await createTestDatabase();
  const secretKey = randomBytes(32).toString('hex');
  const running: ServiceProcess[] = [];
  let nginx: RunningNginx | null = null;
  const close = async () => {
    await Promise.all(running.map((p) => p.stop()));
    await nginx?.stop();
    await database.drop();
    // JMP_FAILOVER_KEEP=1 keeps logs and configs for a look after a failure.
    if (process.env.JMP_FAILOVER_KEEP === '1') {
      for (const p of running)
        writeFileSync(join(dir, `${p.name}.log`), p.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      process.stderr.write(`failover: kept ${dir}\n`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    // The world the logins need: one person with a key and a password, one host.
    const db = createDb(database.url, { min: 0, max: 2 });
    const hostname = `web-${randomBytes(3).toString('hex')}`;
    const password = `failover ${randomBytes(6).toString('hex')}`;
    const keys = generateEd25519KeyPair();
    let username: string;
    try {
      await migrate(db);
      const p = await addProject(db);
      const s = await addService(db, p.id);
      const u = await addUser(db, { password });
      username = u.username;
      await addRole(db, u.id, 'service', s.id, 'ops');
      await addHost(db, { hostname, service_id: s.id, addresses: ['10.231.9.9'] });
      const parsed = parseSshPublicKey(keys.public);
      if (typeof parsed === 'string') throw new Error(parsed);
      await db('user_ssh_keys').insert({ user_id: u.id, public_key: parsed.line, fingerprint: parsed.fingerprint });
    } finally {
      await db.destroy();
    }

    const drain = String(opts.drainSeconds ?? 20);
    const apiPorts = [await freePort(), await freePort()];
    const apis = apiPorts.map((port, i) =>
      startService(`jmp-api-${i + 1}`, API_MAIN, ['serve'], port, {
        DATABASE_URL: database.url,
        REDIS_URL,
        JMP_SECRET_KEY: secretKey,
        JMP_API_HOST: '127.0.0.1',
        JMP_API_PORT: String(port),
        JMP_DB_POOL_MAX: '4',
        JMP_SECURE_COOKIES: 'false',
        JMP_LOG_LEVEL: 'info',
        JMP_DRAIN_SECONDS: drain,
      }),
    );
    running.push(...apis);
    await Promise.all(
      apis.map((a) =>
        waitForHttp(`http://127.0.0.1:${a.port}/healthz`).catch((e: Error) => {
          throw new Error(`${a.name}: ${e.message}\n${a.tail()}`);
        }),
      ),
    );

    const ports = { http: await freePort(), https: await freePort(), ssh: await freePort() };
    const sshPorts = [await freePort(), await freePort()];
    // Instances share one host key, as in production.
    const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
    loadOrCreateHostKey(hostKeyPath);
    const webRoot = join(dir, 'web');
    mkdirSync(webRoot, { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>jmp console</title>\n');
    const socketPorts = [await freePort()];
    nginx = await startNginx(join(dir, 'nginx'), {
      ports,
      webRoot,
      upstreams: {
        jmp_api: apiPorts.map((p) => `127.0.0.1:${p}`),
        jmp_ssh: sshPorts.map((p) => `127.0.0.1:${p}`),
        jmp_socket: socketPorts.map((p) => `127.0.0.1:${p}`),
      },
    });
    const serviceToken = mintServiceToken({ secrets: deriveSecrets(parseMasterSecret(secretKey)) }, 'ssh');
    const sshs = sshPorts.map((port, i) =>
      startService(`jmp-ssh-${i + 1}`, SSH_MAIN, [], port, {
        JMP_API_URL: `https://127.0.0.1:${ports.https}`,
        NODE_EXTRA_CA_CERTS: nginx!.caCert,
        JMP_SERVICE_TOKEN: serviceToken,
        JMP_SSH_HOST: '127.0.0.1',
        JMP_SSH_PORT: String(port),
        JMP_SSH_HOST_KEY: hostKeyPath,
        JMP_RECORDING_DIR: join(dir, `recordings-${i + 1}`),
        JMP_LOG_LEVEL: 'info',
        JMP_DRAIN_SECONDS: drain,
        // nginx sends a PROXY protocol header (packaging/nginx/nginx.conf); here it connects from 127.0.0.1.
        JMP_SSH_PROXY_PROTOCOL: 'on',
        JMP_SSH_PROXY_TRUSTED: '127.0.0.1',
      }),
    );
    running.push(...sshs);
    await Promise.all(sshs.map((s) => waitForSshBanner(s)));
    return {
      dir,
      databaseUrl: database.url,
      apis,
      sshs,
      nginx,
      sshPort: ports.ssh,
      httpsPort: ports.https,
      user: { username: username!, password, privateKey: keys.private },
      hostname,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Waits until the process answers with an SSH identification line (asked as the balancer's health check would). */
async function waitForSshBanner(p: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (!p.running) throw new Error(`${p.name} exited: ${p.tail()}`);
    const banner = await new Promise<string>((resolve) => {
      const s = connect(p.port, '127.0.0.1', () => s.write('PROXY UNKNOWN\r\n'));
      s.setTimeout(2000, () => {
        s.destroy();
        resolve('');
      });
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString('latin1'));
      });
      s.once('error', () => resolve(''));
    });
    if (banner.startsWith('SSH-2.0-')) return;
    if (Date.now() > end) throw new Error(`${p.name} did not answer on ${p.port} within ${timeoutMs} ms: ${p.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
