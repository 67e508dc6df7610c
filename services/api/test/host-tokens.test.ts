// Host token checks (http/host-auth.ts): a remembered key is confirmed by the
// policy version instead of a lookup, and a key changed behind this process's
// back (another jmp-api enrolled or reset the host) is refused once the trust
// window has passed; forgetting a host takes effect at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, addHost } from './harness.js';
import { hostIdentity } from './host-identity.js';
import { createDb, migrate, type Db } from '../src/db/knex.js';
import { HostTokens, KEY_TRUST_MS, forgetHost } from '../src/http/host-auth.js';
import { policyVersion } from '../src/access/facts-cache.js';

let database: { url: string; drop: () => Promise<void> };
let db: Db;
const hostLookups: string[] = [];
before(async () => {
  database = await createTestDatabase();
  db = createDb(database.url);
  await migrate(db);
  db.on('query', (q: { sql: string }) => {
    if (/from "hosts"/.test(q.sql)) hostLookups.push(q.sql);
  });
});
after(async () => {
  await db.destroy();
  await database.drop();
});

const bare = (header: string) => header.replace(/^JMP-Host /, '');

test('a key is confirmed by the policy version, and a key changed elsewhere is refused after the trust window', async () => {
  const a = hostIdentity(),
    b = hostIdentity();
  const host = await addHost(db, { agent_public_key: a.publicKeyPem });
  let now = Date.now();
  const tokens = new HostTokens(db, () => now);
  let versionReads = 0;
  const version = () => {
    versionReads++;
    return policyVersion(db);
  };
  const tokenA = bare(a.token(host.id));
  assert.deepEqual(await tokens.verify(tokenA, version), { kind: 'host', hostId: host.id, hostname: host.hostname });
  assert.equal(hostLookups.length, 1, 'the first check reads the key');

  // Past the trust window, nothing changed: the version confirms the key, no lookup.
  now += KEY_TRUST_MS + 1;
  const reads = versionReads;
  assert.equal((await tokens.verify(bare(a.token(host.id)), version))?.hostId, host.id);
  assert.equal((await tokens.verify(tokenA, version))?.hostId, host.id);
  assert.equal(hostLookups.length, 1, 'no key lookup while the version is unchanged');
  assert.equal(versionReads, reads + 1, 'one version read confirmed the key for the trust window');

  // A write about something else: the key is read again (the version moved), found unchanged, kept.
  await db('projects').insert({ name: `p-${host.id}` });
  now += KEY_TRUST_MS + 1;
  assert.equal((await tokens.verify(tokenA, version))?.hostId, host.id);
  assert.equal(hostLookups.length, 2);

  // Another jmp-api enrols the host again with a new key: the write bumps the version (migration 011).
  const v0 = await policyVersion(db);
  await db('hosts').where({ id: host.id }).update({ agent_public_key: b.publicKeyPem });
  assert.notEqual(await policyVersion(db), v0, 'a new agent key bumps the policy version');
  now += KEY_TRUST_MS + 1;
  assert.equal(await tokens.verify(tokenA, version), null, 'a token of the old key is refused');
  assert.equal(await tokens.verify(bare(a.token(host.id)), version), null);
  assert.equal((await tokens.verify(bare(b.token(host.id)), version))?.hostId, host.id, 'the new key works');
});

test('forgetting a host refuses its remembered tokens at once; unknown and unenrolled hosts are refused', async () => {
  const a = hostIdentity();
  const host = await addHost(db, { agent_public_key: a.publicKeyPem });
  const tokens = new HostTokens(db);
  const version = () => policyVersion(db);
  const token = bare(a.token(host.id));
  assert.equal((await tokens.verify(token, version))?.hostId, host.id);
  await db('hosts').where({ id: host.id }).update({ agent_public_key: null });
  forgetHost(host.id);
  assert.equal(await tokens.verify(token, version), null);
  assert.equal(await tokens.verify(bare(a.token(host.id + 100_000)), version), null);
  assert.equal(await tokens.verify('not.a.token', version), null);
});
