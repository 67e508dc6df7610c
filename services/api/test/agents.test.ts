// Enrolment with one-time tokens, the policy snapshot with ETag, agent events.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  startApi,
  addUser,
  addProject,
  addService,
  addHost,
  addRole,
  addGrant,
  addDepartment,
  type TestApi,
} from './harness.js';
import { hostIdentity } from './host-identity.js';
import { sha256hex } from '../src/crypto/secrets.js';
import { until } from '../../../test/lib/until.js';

let api: TestApi;
let svc: { id: number };
before(async () => {
  api = await startApi();
  const p = await addProject(api.db);
  svc = await addService(api.db, p.id);
});
after(async () => {
  await api.close();
});

async function token(over: Record<string, unknown> = {}): Promise<string> {
  const t = `jmpe_${randomBytes(32).toString('base64url')}`;
  await api.db('enrolment_tokens').insert({
    token_hash: sha256hex(t),
    service_id: svc.id,
    max_uses: 1,
    expires_at: new Date(Date.now() + 3600_000),
    ...over,
  });
  return t;
}
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('POST /v1/agents/enroll', () => {
  test('registers the host, its addresses, host keys and agent key; the token is single-use', async () => {
    const id = hostIdentity();
    const t = await token();
    const body = {
      token: t,
      hostname: 'enrol-01',
      addresses: ['10.231.0.21', 'fd00::21'],
      sshHostKeys: [SSH_KEY],
      agentPublicKey: id.publicKeyPem,
    };
    const r = await api.call('POST', '/v1/agents/enroll', { body });
    assert.equal(r.status, 201);
    const host = await api.db('hosts').where({ id: r.body.hostId }).first();
    assert.deepEqual(host.addresses, ['10.231.0.21', 'fd00::21']);
    assert.deepEqual(host.ssh_host_keys, [SSH_KEY]);
    assert.equal(host.service_id, svc.id);
    assert.ok(host.enrolled_at);
    const again = await api.call('POST', '/v1/agents/enroll', { body: { ...body, hostname: 'enrol-02' } });
    assert.equal(again.status, 401);
    assert.match(again.body.error.message, /used up/);
    // the new key works at once
    const pol = await api.call('GET', '/v1/agents/policy', { auth: id.token(r.body.hostId) });
    assert.equal(pol.status, 200);
  });
  test('an enrolled host cannot be taken over; after an admin reset it enrols again; names are lower case, key comments dropped', async () => {
    const first = hostIdentity();
    const body = {
      token: await token({ max_uses: 5 }),
      hostname: 'Web-Takeover',
      addresses: ['10.231.0.30'],
      sshHostKeys: [`${SSH_KEY} root@web`],
      agentPublicKey: first.publicKeyPem,
    };
    const r = await api.call('POST', '/v1/agents/enroll', { body });
    assert.equal(r.status, 201);
    assert.equal(r.body.hostname, 'web-takeover');
    assert.deepEqual((await api.db('hosts').where({ id: r.body.hostId }).first()).ssh_host_keys, [SSH_KEY]);
    const attacker = hostIdentity();
    const again = await api.call('POST', '/v1/agents/enroll', {
      body: { ...body, hostname: 'web-takeover', agentPublicKey: attacker.publicKeyPem },
    });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already enrolled; an administrator must reset/);
    assert.equal((await api.call('GET', '/v1/agents/policy', { auth: attacker.token(r.body.hostId) })).status, 401);
    // The reset binds the token that may enrol the host again (a reset alone binds none).
    const tokenId = (
      await api
        .db('enrolment_tokens')
        .where({ token_hash: sha256hex(body.token) })
        .first('id')
    ).id;
    const reset = await api.call('POST', `/v1/hosts/${r.body.hostId}/reset-enrolment`, {
      auth: `Bearer ${api.serviceToken('admin')}`,
      body: { enrolmentTokenId: tokenId },
    });
    assert.equal(reset.status, 200);
    assert.equal(
      (await api.call('GET', '/v1/agents/policy', { auth: first.token(r.body.hostId) })).status,
      401,
      'old key forgotten',
    );
    const second = hostIdentity();
    const re = await api.call('POST', '/v1/agents/enroll', { body: { ...body, agentPublicKey: second.publicKeyPem } });
    assert.equal(re.status, 201);
    assert.equal(re.body.hostId, r.body.hostId, 'same host row, same id');
    assert.equal((await api.call('GET', '/v1/agents/policy', { auth: second.token(r.body.hostId) })).status, 200);
  });
  test('a malformed SSH host key names the field', async () => {
    const r = await api.call('POST', '/v1/agents/enroll', {
      body: {
        token: await token(),
        hostname: 'keyhost',
        addresses: ['10.231.0.31'],
        sshHostKeys: ['ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ'],
        agentPublicKey: hostIdentity().publicKeyPem,
      },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.sshHostKeys\.0: /);
  });
  test('expired and revoked tokens are refused', async () => {
    const id = hostIdentity();
    const body = (t: string) => ({
      token: t,
      hostname: 'enrol-x',
      addresses: ['10.231.0.22'],
      sshHostKeys: [],
      agentPublicKey: id.publicKeyPem,
    });
    assert.equal(
      (
        await api.call('POST', '/v1/agents/enroll', {
          body: body(await token({ expires_at: new Date(Date.now() - 1000) })),
        })
      ).status,
      401,
    );
    assert.equal(
      (await api.call('POST', '/v1/agents/enroll', { body: body(await token({ revoked_at: new Date() })) })).status,
      401,
    );
    assert.equal(
      (await api.call('POST', '/v1/agents/enroll', { body: body('jmpe_wrongwrongwrongwrong') })).status,
      401,
    );
  });
  test('bad input names the field', async () => {
    const r = await api.call('POST', '/v1/agents/enroll', {
      body: {
        token: await token(),
        hostname: 'ok-host',
        addresses: ['999.1.1.1'],
        sshHostKeys: [],
        agentPublicKey: hostIdentity().publicKeyPem,
      },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.addresses\.0: /);
  });
});

describe('GET /v1/agents/policy', () => {
  test('lists exactly the users who may log in, with uid, groups and root; ETag gives 304', async () => {
    const id = hostIdentity();
    const host = await addHost(api.db, { service_id: svc.id, state: 'online', agent_public_key: id.publicKeyPem });
    const ops = await addUser(api.db, { display_name: 'Ops: Person' });
    const owner = await addUser(api.db);
    const granted = await addUser(api.db);
    const stranger = await addUser(api.db);
    const dept = await addDepartment(api.db);
    const sub = await addDepartment(api.db, { parent_id: dept.id });
    const member = await addUser(api.db, { department_id: sub.id });
    const disabled = await addUser(api.db, { department_id: sub.id, status: 'disabled' });
    await addRole(api.db, ops.id, 'service', svc.id, 'ops');
    await addRole(api.db, owner.id, 'service', svc.id, 'owner');
    await addGrant(api.db, { subject_id: granted.id, scope_type: 'host', scope_id: host.id, right: 'login' });
    await addGrant(api.db, {
      subject_type: 'department',
      subject_id: dept.id,
      scope_type: 'service',
      scope_id: svc.id,
      right: 'root',
    });
    await addGrant(api.db, {
      subject_id: stranger.id,
      scope_type: 'host',
      scope_id: host.id,
      right: 'login',
      valid_from: new Date(Date.now() - 7200_000),
      valid_until: new Date(Date.now() - 3600_000),
    });

    const r = await api.call('GET', '/v1/agents/policy', { auth: id.token(host.id) });
    assert.equal(r.status, 200);
    const byName = new Map<string, any>(r.body.users.map((u: any) => [u.username, u]));
    assert.deepEqual(
      [...byName.keys()].sort(),
      [ops.username, owner.username, granted.username, member.username].sort(),
    );
    assert.equal(byName.get(ops.username).root, true);
    assert.equal(byName.get(owner.username).root, false);
    assert.equal(byName.get(granted.username).root, false);
    assert.equal(byName.get(member.username).root, true, 'department grant reaches sub-departments');
    const o = byName.get(ops.username);
    assert.equal(o.uid, (await api.db('users').where({ id: ops.id }).first()).uid);
    assert.equal(o.gid, o.uid);
    assert.equal(o.home, `/home/${ops.username}`);
    assert.equal(o.gecos, 'Ops  Person', 'no colon in a passwd field');
    assert.deepEqual(o.groups, ['jmp-users']);
    assert.ok(!byName.has(disabled.username));
    assert.equal(r.body.ticketKeys.length, 1);
    assert.match(r.body.ticketKeys[0].publicKeyPem, /BEGIN PUBLIC KEY/);
    assert.deepEqual(r.body.failPolicy, { noSnapshot: 'deny' });
    const etag = r.headers.get('etag')!;
    assert.ok(etag);
    const same = await api.call('GET', '/v1/agents/policy', {
      auth: id.token(host.id),
      headers: { 'if-none-match': etag },
    });
    assert.equal(same.status, 304);
    await addGrant(api.db, { subject_id: stranger.id, scope_type: 'host', scope_id: host.id, right: 'login' });
    const changed = await api.call('GET', '/v1/agents/policy', {
      auth: id.token(host.id),
      headers: { 'if-none-match': etag },
    });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
    // Written in batches every few seconds, not once per poll.
    await until(
      'last_seen_at is recorded',
      async () => (await api.db('hosts').where({ id: host.id }).first()).last_seen_at,
    );
  });
  test('a routine poll is answered from the known ETag without a build, until a write, a key rotation or a grant boundary', async () => {
    const id = hostIdentity();
    const host = await addHost(api.db, { service_id: svc.id, agent_public_key: id.publicKeyPem });
    const u = await addUser(api.db);
    const poll = (etag?: string) =>
      api.call('GET', '/v1/agents/policy', { auth: id.token(host.id), headers: etag ? { 'if-none-match': etag } : {} });
    const first = await poll();
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag')!;
    const again = await poll(etag);
    assert.equal(again.status, 304);
    assert.match(again.headers.get('server-timing') ?? '', /^cached;/, 'no snapshot was built');
    // A grant that ends in a moment: no write happens when it ends, yet the next poll sees it gone.
    await addGrant(api.db, {
      subject_id: u.id,
      scope_type: 'host',
      scope_id: host.id,
      right: 'login',
      valid_until: new Date(Date.now() + 1500),
    });
    const granted = await poll(etag);
    assert.equal(granted.status, 200);
    assert.ok(granted.body.users.some((x: { username: string }) => x.username === u.username));
    const grantedEtag = granted.headers.get('etag')!;
    assert.equal((await poll(grantedEtag)).status, 304);
    await new Promise((r) => setTimeout(r, 1600));
    const ended = await poll(grantedEtag);
    assert.equal(ended.status, 200, 'the grant ended: the snapshot is built again');
    assert.ok(!ended.body.users.some((x: { username: string }) => x.username === u.username));
    // A ticket key rotation bumps the policy version: the published keys change.
    const before = BigInt(ended.headers.get('jmp-policy-version')!);
    await api.db('ticket_keys').update({ created_at: api.db.fn.now() });
    const rotated = await poll(ended.headers.get('etag')!);
    assert.ok(BigInt(rotated.headers.get('jmp-policy-version')!) > before);
    assert.match(rotated.headers.get('server-timing') ?? '', /^snapshot;/);
  });
  test("a host cannot read another host's policy", async () => {
    const id = hostIdentity();
    const other = await addHost(api.db, { agent_public_key: hostIdentity().publicKeyPem });
    assert.equal((await api.call('GET', '/v1/agents/policy', { auth: id.token(other.id) })).status, 401);
  });
});

describe('POST /v1/agents/events', () => {
  test('tamper events are stored in the audit log and the host shows degraded state', async () => {
    const id = hostIdentity();
    const host = await addHost(api.db, { agent_public_key: id.publicKeyPem });
    const r = await api.call('POST', '/v1/agents/events', {
      auth: id.token(host.id),
      body: {
        events: [
          { type: 'tamper', at: new Date().toISOString(), detail: { file: '/etc/pam.d/sshd' } },
          { type: 'degraded', at: new Date().toISOString(), detail: { why: 'ENOSPC' } },
        ],
      },
    });
    assert.equal(r.status, 204);
    const ev = await api.db('audit_events').where({ action: 'agent.tamper', target: host.hostname }).first();
    assert.equal(ev.data.file, '/etc/pam.d/sshd');
    assert.equal((await api.db('hosts').where({ id: host.id }).first()).agent_status.degraded, true);
  });
});
