// GET /v1/sessions/:id/recording: the asciicast text for the console's
// player, read with jmp-ssh's store code; the same people as
// GET /v1/sessions/:id may read it, everyone else gets "not found".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addHost, addUser, startApi, webLogin, type TestApi } from '../../services/api/test/harness.js';
import { createRecordings } from '@jmp/recording';

let api: TestApi;
const dir = mkdtempSync(join(tmpdir(), 'jmp-rec-route-'));
const ids = { ended: randomUUID(), live: randomUUID(), missing: randomUUID() };
const headers: Record<string, Record<string, string>> = {};

before(async () => {
  api = await startApi();
  const alice = await addUser(api.db, { username: 'alice', password: 'alice password 1' });
  await addUser(api.db, { username: 'mallory', password: 'mallory password' });
  await addUser(api.db, { username: 'audrey', password: 'audrey password', is_auditor: true });
  const host = await addHost(api.db, { hostname: 'web1' });
  const rec = createRecordings({ dir, fsync: false }).start({
    sessionId: ids.ended,
    user: 'alice',
    host: 'web1',
    width: 100,
    height: 30,
    term: 'xterm',
    startedAt: new Date(),
  });
  rec.output(Buffer.from('alice@web1:~$ whoami\r\nalice\r\n'));
  const { uri } = await rec.close('exit');
  await api.db('sessions').insert([
    { id: ids.ended, user_id: alice.id, host_id: host.id, protocol: 'ssh', ended_at: new Date(), recording_uri: uri },
    { id: ids.live, user_id: alice.id, host_id: host.id, protocol: 'ssh' },
    {
      id: ids.missing,
      user_id: alice.id,
      host_id: host.id,
      protocol: 'ssh',
      ended_at: new Date(),
      recording_uri: `file://${dir}/2000-01-01/${ids.missing}`,
    },
  ]);
  for (const [u, p] of [
    ['alice', 'alice password 1'],
    ['mallory', 'mallory password'],
    ['audrey', 'audrey password'],
  ] as const)
    headers[u] = (await webLogin(api, u, p)).cookie;
});

after(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (id: string, who?: string) =>
  api.call('GET', `/v1/sessions/${id}/recording`, who ? { headers: headers[who] } : {});

test('the owner and an auditor get the asciicast v2 text; the header first, then the events', async () => {
  for (const who of ['alice', 'audrey']) {
    const r = await get(ids.ended, who);
    assert.equal(r.status, 200, who);
    assert.match(r.headers.get('content-type') ?? '', /^application\/x-asciicast/);
    const lines = (r.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines[0].version, 2);
    assert.equal(lines[0].width, 100);
    assert.equal(lines[0].jmp.session, ids.ended);
    const out = lines
      .slice(1)
      .filter((e: unknown[]) => e[1] === 'o')
      .map((e: unknown[]) => e[2])
      .join('');
    assert.equal(out, 'alice@web1:~$ whoami\r\nalice\r\n');
  }
});

test("someone else's session, no session, a running session and a lost recording are refused with a sentence", async () => {
  const other = await get(ids.ended, 'mallory');
  assert.equal(other.status, 404);
  assert.equal(other.body.error.message, `no session ${ids.ended}`);
  assert.equal((await get(ids.ended)).status, 401);
  const live = await get(ids.live, 'alice');
  assert.equal(live.status, 404);
  assert.match(live.body.error.message, /still running; its recording is available once it ends/);
  const lost = await get(ids.missing, 'alice');
  assert.equal(lost.status, 404);
  assert.match(lost.body.error.message, /missing from the store/);
  const bad = await get('not-a-uuid', 'alice');
  assert.equal(bad.status, 400);
});
