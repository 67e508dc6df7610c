// Cross-cutting HTTP behaviour: health, metrics, 404, 400 naming the field, openapi.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './harness.js';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('healthz reports database and store', async () => {
  const r = await api.call('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { ok: true, db: true, store: true });
});

test('metrics are exposed in Prometheus text format', async () => {
  await api.call('GET', '/healthz');
  const r = await api.call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.body, /jmp_http_request_duration_seconds_bucket\{.*route="\/healthz"/);
  assert.match(r.body, /process_cpu_user_seconds_total/);
});

test('unknown route is a JSON 404', async () => {
  const r = await api.call('GET', '/v1/nope');
  assert.equal(r.status, 404);
  assert.equal(r.body.error.code, 'not_found');
  assert.match(r.body.error.message, /GET \/v1\/nope/);
});

test('malformed JSON is a 400', async () => {
  const r = await api.call('POST', '/v1/auth/web', { body: '{"username":' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, 'bad_request');
});

test('openapi document lists the endpoints', async () => {
  const r = await api.call('GET', '/v1/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.openapi, '3.1.0');
  for (const p of [
    '/healthz',
    '/v1/auth/ssh',
    '/v1/auth/web',
    '/v1/tickets',
    '/v1/pam/decide',
    '/v1/agents/enroll',
    '/v1/agents/policy',
  ]) {
    assert.ok(r.body.paths[p], `openapi lists ${p}`);
  }
});
