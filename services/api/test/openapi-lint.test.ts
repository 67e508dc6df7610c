// /v1/openapi.json is a contract other tools read: Redocly CLI's recommended
// rules find no error and no warning in it, and the router refuses, at
// startup, a route whose document would be wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApiRouter, operationIdOf } from '../src/http/routes.js';
import { startApi, type TestApi } from './harness.js';

const REDOCLY = resolve(import.meta.dirname, '../../../node_modules/.bin/redocly');

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: Array<{ pointer?: string }>;
}

let api: TestApi;
let dir: string;
before(async () => {
  api = await startApi({ redis: false });
  dir = await mkdtemp(join(tmpdir(), 'jmp-openapi-'));
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs `redocly lint` with the recommended rules only (cwd is a bare temp dir: no redocly.yaml is picked up). */
async function lint(doc: unknown): Promise<LintProblem[]> {
  const file = join(dir, 'openapi.json');
  await writeFile(file, JSON.stringify(doc));
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  // Exit status 1 means "problems found": the JSON on stdout says which.
  const out = await promisify(execFile)(REDOCLY, ['lint', '--extends=recommended', '--format=json', file], {
    cwd: dir,
    env,
    timeout: 60_000,
  }).catch((err: { code?: unknown; stdout?: string }) => {
    if (err.code === 1 && err.stdout) return { stdout: err.stdout };
    throw err;
  });
  return (JSON.parse(out.stdout) as { problems: LintProblem[] }).problems;
}

const show = (ps: LintProblem[]) =>
  ps.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`).join('\n');

test('redocly lint (recommended) finds no error and no warning in /v1/openapi.json', async () => {
  const r = await api.call('GET', '/v1/openapi.json');
  assert.equal(r.status, 200);
  const problems = await lint(r.body);
  assert.deepEqual(
    problems.filter((p) => p.severity === 'error'),
    [],
    show(problems),
  );
  assert.deepEqual(problems, [], show(problems));
});

test('every operation has a unique operationId, every protected one its security, public ones an explicit []', async () => {
  const doc = (await api.call('GET', '/v1/openapi.json')).body as {
    servers: unknown[];
    components: { securitySchemes: Record<string, unknown> };
    paths: Record<
      string,
      Record<
        string,
        { operationId: string; security: Array<Record<string, string[]>>; responses: Record<string, unknown> }
      >
    >;
  };
  assert.ok(doc.servers.length > 0);
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(op.operationId && !ids.has(op.operationId), `${method} ${path}: operationId ${op.operationId}`);
      ids.add(op.operationId);
      assert.ok(Array.isArray(op.security), `${method} ${path}: security is declared`);
      // A route that can answer 401 is protected: it names at least one scheme, and each scheme exists.
      assert.equal(op.security.length > 0, '401' in op.responses, `${method} ${path}: security matches its auth`);
      for (const req of op.security)
        for (const name of Object.keys(req)) assert.ok(doc.components.securitySchemes[name], name);
    }
  }
  assert.ok(ids.has('getUsersById') && ids.has('deleteUsersByIdKeysByKeyId') && ids.has('getHealthz'));
});

test('operationIdOf: method, then the path without /v1, parameters as By<Name>', () => {
  assert.equal(operationIdOf('get', '/v1/users'), 'getUsers');
  assert.equal(operationIdOf('delete', '/v1/users/:id/keys/:keyId'), 'deleteUsersByIdKeysByKeyId');
  assert.equal(operationIdOf('post', '/v1/requests/:id/approve'), 'postRequestsByIdApprove');
  assert.equal(operationIdOf('get', '/v1/requests/pending-approval'), 'getRequestsPendingApproval');
  assert.equal(operationIdOf('get', '/healthz'), 'getHealthz');
});

test('the router refuses a route without security, a public route with one, and a duplicate operationId', () => {
  const r = new ApiRouter();
  const auth = async () => ({ kind: 'anonymous' as const });
  const handler = async () => undefined;
  assert.throws(
    () => r.route('get', '/v1/x', { summary: 'x', tags: ['t'], auth }, handler),
    /GET \/v1\/x: a route with auth must declare its security/,
  );
  assert.throws(
    () => r.route('get', '/v1/y', { summary: 'y', tags: ['t'], auth: null, security: 'user' }, handler),
    /a public one none/,
  );
  r.route('get', '/v1/z', { summary: 'z', tags: ['t'], auth: null }, handler);
  assert.throws(
    () => r.route('post', '/v1/w', { summary: 'w', tags: ['t'], auth: null, operationId: 'getZ' }, handler),
    /operationId getZ is already taken/,
  );
});
