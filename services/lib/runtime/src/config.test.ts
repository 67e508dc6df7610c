import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { ConfigError, loadConfig, port, bool, type ConfigOf } from './config.js';

const spec = {
  port: { env: 'JMP_X_PORT', schema: port(8080), help: 'listen port' },
  db: { env: 'DATABASE_URL', schema: z.string().url(), help: 'database' },
  debug: { env: 'JMP_X_DEBUG', schema: bool(false), help: 'debug' },
  secret: { env: 'JMP_X_SECRET', schema: z.string().min(40), help: 'secret' },
} as const;

test('defaults, coercion and booleans', () => {
  const c = loadConfig(spec, { DATABASE_URL: 'postgres://h/db', JMP_X_DEBUG: 'yes', JMP_X_SECRET: 'x'.repeat(40) });
  assert.deepEqual(c, { port: 8080, db: 'postgres://h/db', debug: true, secret: 'x'.repeat(40) });
});

test("the config type is the specs' outputs", () => {
  const c: ConfigOf<typeof spec> = loadConfig(spec, { DATABASE_URL: 'postgres://h/db', JMP_X_SECRET: 'x'.repeat(40) });
  // Compile-time: each key has its schema's output type (a number, a boolean), not a hand-written one.
  const check: { port: number; db: string; debug: boolean; secret: string } = c;
  assert.equal(check.port + 1, 8081);
});

test('a wrong value names the variable', () => {
  assert.throws(
    () => loadConfig(spec, { DATABASE_URL: 'postgres://h/db', JMP_X_PORT: '99999', JMP_X_SECRET: 'x'.repeat(40) }),
    (e: unknown) => e instanceof ConfigError && e.variable === 'JMP_X_PORT' && /99999/.test(e.message),
  );
});

test('a missing value names the variable', () => {
  assert.throws(
    () => loadConfig(spec, { JMP_X_SECRET: 'x'.repeat(40) }),
    /^ConfigError: DATABASE_URL: is required but not set$/m,
  );
});

test('secrets are not echoed back', () => {
  assert.throws(
    () => loadConfig(spec, { DATABASE_URL: 'postgres://h/db', JMP_X_SECRET: 'hunter2' }),
    (e: unknown) => e instanceof Error && !e.message.includes('hunter2') && /JMP_X_SECRET/.test(e.message),
  );
});

test('jmp-api stops with one clear line for a bad variable', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'services/api/src/main.ts', 'serve'], {
    env: { ...process.env, JMP_API_PORT: 'eighty', DATABASE_URL: 'postgres://x/y', JMP_SECRET_KEY: 'a'.repeat(64) },
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^jmp-api: configuration error: JMP_API_PORT: /);
});
