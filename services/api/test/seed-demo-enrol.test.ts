// The `make dev` demo: its pre-registered web hosts are bound to the printed
// enrolment token, so `jmp-agent enroll` on h1 works; the token cannot claim
// hosts of other services.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from './harness.js';
import { hostIdentity } from './host-identity.js';
import { seedDemo } from '../src/dev/seed-demo.js';

let api: TestApi;
before(async () => {
  api = await startApi();
});
after(async () => {
  await api.close();
});

test('the demo token enrols the demo web hosts and no host of another service', async () => {
  const creds = await seedDemo(api.db);
  assert.ok(creds, 'seeded into the fresh database');
  const enrol = (hostname: string) =>
    api.call('POST', '/v1/agents/enroll', {
      body: {
        token: creds.enrolmentToken,
        hostname,
        addresses: ['127.0.0.1'],
        sshHostKeys: [],
        agentPublicKey: hostIdentity().publicKeyPem,
      },
    });
  const h1 = await enrol('h1');
  assert.equal(h1.status, 201, JSON.stringify(h1.body));
  assert.equal(h1.body.hostId, (await api.db('hosts').where({ hostname: 'h1' }).first('id')).id);
  const db01 = await enrol('db-01');
  assert.equal(db01.status, 409);
  assert.match(db01.body.error.message, /another service/);
});
