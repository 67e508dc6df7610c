// jmp-api's error answers come from the one catalogue (@jmp/contract ERRORS): the code decides the status,
// and only jmp-api's own outage (code unavailable) carries the JMP-Unavailable marker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ERRORS, UNAVAILABLE_HEADER } from '@jmp/contract';
import { startApi, type TestApi } from './harness.js';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

function assertCatalogued(r: { status: number; body: any; headers: Headers }, code: keyof typeof ERRORS): void {
  assert.equal(r.body.error.code, code);
  assert.equal(r.status, ERRORS[code].status);
  assert.equal(r.headers.get(UNAVAILABLE_HEADER), null);
}

test('an unknown route, bad JSON and a body over the limit answer with a catalogue code and its status', async () => {
  assertCatalogued(await api.call('GET', '/v1/nope'), 'not_found');
  assertCatalogued(await api.call('POST', '/v1/auth/web', { body: '{"username":' }), 'bad_request');
  const big = await api.call('POST', '/v1/auth/web', { body: { username: 'a', password: 'x'.repeat(300 * 1024) } });
  assertCatalogued(big, 'too_large');
  assert.match(big.body.error.message, /256 KiB/);
});
