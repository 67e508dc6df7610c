// openTarget against a target that accepts TCP and never speaks SSH (a
// saturated sshd dropping startups behaves like this): the person gets a
// clear refusal, and the second error ssh2 emits for the same connection
// (handshake timeout, then "Connection lost before handshake") must not take
// the jmp-ssh process down with every other session in it.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { ApiClient } from '@jmp/contract';
import {
  addGrant,
  addHost,
  addProject,
  addService,
  addUser,
  startApi,
  type TestApi,
} from '../../../api/test/harness.js';
import { openTarget, TargetError } from './connect.js';
import { ed25519KeyPair } from '../test/keys.js';

let api: TestApi;
let silent: net.Server;
const sockets = new Set<net.Socket>();

before(async () => {
  api = await startApi();
  // Accepts, says nothing, hangs up after 400 ms (after the client's 150 ms handshake timeout).
  silent = net.createServer((s) => {
    sockets.add(s);
    setTimeout(() => s.destroy(), 400);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const svc = await addService(api.db, (await addProject(api.db)).id);
  const key = ed25519KeyPair().public.split(' ').slice(0, 2).join(' ');
  const host = await addHost(api.db, {
    hostname: 'mute-01',
    service_id: svc.id,
    addresses: ['127.0.0.1'],
    ssh_host_keys: [key],
  });
  const u = await addUser(api.db, { username: 'carol' });
  await addGrant(api.db, { subject_id: u.id, scope_type: 'host', scope_id: host.id, right: 'login' });
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  await api.close();
});

test('a target that never answers the handshake is refused with a sentence, and its later errors are contained', async () => {
  const uncaught: Error[] = [];
  const onUncaught = (err: Error) => {
    uncaught.push(err);
  };
  // node:test turns an uncaught exception into a failure of whatever runs; collect it here to name it.
  process.prependListener('uncaughtException', onUncaught);
  try {
    const client = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
    const port = (silent.address() as net.AddressInfo).port;
    const err = await openTarget(client, 'carol', 'mute-01', { port, readyTimeoutMs: 150 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(err instanceof TargetError, `a TargetError, got ${String(err)}`);
    assert.match(err.message, /cannot reach mute-01 \(127\.0\.0\.1\): Timed out while waiting for handshake/);
    // The target hangs up later: ssh2 emits a second error on the same client.
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
  } finally {
    process.removeListener('uncaughtException', onUncaught);
  }
});
