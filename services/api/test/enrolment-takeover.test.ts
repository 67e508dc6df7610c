// Enrolment cannot take over a host: a token creates hosts in its own service,
// or claims the pre-registered Linux host an administrator bound to it; it never
// replaces registered SSH host keys or touches another service's host, and
// re-enrolment needs an administrator's audited reset.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startApi, addUser, addProject, addService, addHost, webLogin, type TestApi } from './harness.js';
import { hostIdentity } from './host-identity.js';
import { sha256hex } from '../src/crypto/secrets.js';

const KEY_B = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const KEY_ATTACKER = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm1nYb4ReFlQrSPnA7KW5UvxlLakBk8dVjmCGuYb+Gw';

let api: TestApi;
let svcA: { id: number };
let svcB: { id: number };
let admin: string;
before(async () => {
  api = await startApi();
  const p = await addProject(api.db);
  svcA = await addService(api.db, p.id);
  svcB = await addService(api.db, p.id);
  admin = `Bearer ${api.serviceToken('admin')}`;
});
after(async () => {
  await api.close();
});

async function token(
  serviceId: number | null,
  over: Record<string, unknown> = {},
): Promise<{ token: string; id: number }> {
  const t = `jmpe_${randomBytes(32).toString('base64url')}`;
  const [row] = await api
    .db('enrolment_tokens')
    .insert({
      token_hash: sha256hex(t),
      service_id: serviceId,
      max_uses: 5,
      expires_at: new Date(Date.now() + 3600_000),
      ...over,
    })
    .returning('id');
  return { token: t, id: row.id };
}
const enrol = (t: string, hostname: string, over: Record<string, unknown> = {}) =>
  api.call('POST', '/v1/agents/enroll', {
    body: {
      token: t,
      hostname,
      addresses: ['10.66.6.6'],
      sshHostKeys: [KEY_ATTACKER],
      agentPublicKey: hostIdentity().publicKeyPem,
      ...over,
    },
  });
/** The columns a takeover would change, to compare before and after. */
const snapshot = async (id: number) =>
  JSON.stringify(
    await api
      .db('hosts')
      .where({ id })
      .first(
        'hostname',
        'service_id',
        'addresses',
        'ssh_host_keys',
        'agent_public_key',
        'enrolled_at',
        'kind',
        'enrolment_token_id',
      ),
  );
const usesOf = async (id: number) => (await api.db('enrolment_tokens').where({ id }).first('uses')).uses as number;

describe('enrolment cannot take over a host', () => {
  test("a token of service A cannot claim service B's host, enrolled or only registered: 409, host byte-equal", async () => {
    const a = await token(svcA.id);
    const victim = hostIdentity();
    const enrolled = await addHost(api.db, {
      hostname: 'b-enrolled',
      service_id: svcB.id,
      addresses: ['10.1.0.1'],
      ssh_host_keys: [KEY_B],
      agent_public_key: victim.publicKeyPem,
    });
    const registered = await addHost(api.db, {
      hostname: 'b-registered',
      service_id: svcB.id,
      addresses: ['10.1.0.2'],
      ssh_host_keys: [KEY_B],
    });
    for (const h of [enrolled, registered]) {
      const before = await snapshot(h.id);
      const r = await enrol(a.token, h.hostname.toUpperCase());
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.match(r.body.error.message, /registered in another service; this enrolment token cannot enrol it/);
      assert.equal(await snapshot(h.id), before, `${h.hostname} unchanged`);
    }
    // Even an administrator's binding does not let a token of another service claim it.
    await api.db('hosts').where({ id: registered.id }).update({ enrolment_token_id: a.id });
    assert.equal((await enrol(a.token, 'b-registered')).status, 409);
    assert.equal(await usesOf(a.id), 0, 'a refused enrolment spends no use');
    const refused = await api.db('audit_events').where({ action: 'agent.enrol_refused', target: 'b-enrolled' }).first();
    assert.ok(refused, 'the refusal is audited');
    assert.equal(refused.data.enrolmentTokenId, a.id);
  });

  test('an unbound token cannot claim a pre-registered host of its own service', async () => {
    const a = await token(svcA.id);
    const h = await addHost(api.db, {
      hostname: 'a-registered',
      service_id: svcA.id,
      addresses: ['10.2.0.1'],
      ssh_host_keys: [KEY_B],
    });
    const before = await snapshot(h.id);
    const r = await enrol(a.token, 'a-registered', { sshHostKeys: [KEY_B] });
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /already registered; an administrator must bind this enrolment token to it/);
    assert.equal(await snapshot(h.id), before);
    // Bound to another token of the same service: still not this one.
    const other = await token(svcA.id);
    await api.db('hosts').where({ id: h.id }).update({ enrolment_token_id: other.id });
    assert.equal((await enrol(a.token, 'a-registered', { sshHostKeys: [KEY_B] })).status, 409);
  });

  test('a bound token claims the host once; registered SSH host keys are never replaced', async () => {
    const a = await token(svcA.id);
    const created = await api.call('POST', '/v1/hosts', {
      auth: admin,
      body: { hostname: 'a-bound', serviceId: svcA.id, sshHostKeys: [KEY_B], enrolmentTokenId: a.id },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.enrolmentTokenId, a.id);
    const id = created.body.id as number;
    const wrongKeys = await enrol(a.token, 'a-bound');
    assert.equal(wrongKeys.status, 409);
    assert.match(wrongKeys.body.error.message, /SSH host keys other than the registered ones/);
    const agent = hostIdentity();
    const r = await enrol(a.token, 'a-bound', {
      sshHostKeys: [KEY_ATTACKER, KEY_B],
      agentPublicKey: agent.publicKeyPem,
      addresses: ['10.2.0.9'],
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.hostId, id);
    const row = await api.db('hosts').where({ id }).first();
    assert.deepEqual(row.ssh_host_keys, [KEY_B], 'the registered key stays, the extra one is not added');
    assert.deepEqual(row.addresses, ['10.2.0.9']);
    assert.equal(row.service_id, svcA.id);
    assert.equal(row.enrolment_token_id, null, 'the binding is used up by the claim');
    assert.equal((await api.call('GET', '/v1/agents/policy', { auth: agent.token(id) })).status, 200);
  });

  test('an enrolled host cannot enrol again without the admin reset; after a reset with a bound token it can', async () => {
    const a = await token(svcA.id);
    const first = hostIdentity();
    const body = { sshHostKeys: [KEY_B], agentPublicKey: first.publicKeyPem };
    const r = await enrol(a.token, 'a-reenrol', body);
    assert.equal(r.status, 201);
    const id = r.body.hostId as number;
    const before = await snapshot(id);
    const attacker = hostIdentity();
    const again = await enrol(a.token, 'a-reenrol', { sshHostKeys: [KEY_B], agentPublicKey: attacker.publicKeyPem });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /already enrolled; an administrator must reset its enrolment/);
    assert.equal(await snapshot(id), before);

    // A reset alone binds nothing: the same token may not claim the host.
    assert.equal((await api.call('POST', `/v1/hosts/${id}/reset-enrolment`, { auth: admin })).status, 200);
    assert.equal(
      (await api.call('GET', '/v1/agents/policy', { auth: first.token(id) })).status,
      401,
      'old key forgotten',
    );
    assert.equal((await enrol(a.token, 'a-reenrol', { sshHostKeys: [KEY_B] })).status, 409);

    const reset = await api.call('POST', `/v1/hosts/${id}/reset-enrolment`, {
      auth: admin,
      body: { enrolmentTokenId: a.id },
    });
    assert.equal(reset.status, 200, JSON.stringify(reset.body));
    assert.equal(reset.body.enrolled, false);
    assert.equal(reset.body.enrolmentTokenId, a.id);
    const second = hostIdentity();
    const re = await enrol(a.token, 'a-reenrol', { sshHostKeys: [KEY_B], agentPublicKey: second.publicKeyPem });
    assert.equal(re.status, 201, JSON.stringify(re.body));
    assert.equal(re.body.hostId, id, 'same host row, same id');
    assert.equal((await api.call('GET', '/v1/agents/policy', { auth: second.token(id) })).status, 200);
  });

  test('the reset is admin-only and audited; a binding must fit the host', async () => {
    const a = await token(svcA.id);
    const b = await token(svcB.id);
    const h = await addHost(api.db, {
      hostname: 'a-reset',
      service_id: svcA.id,
      agent_public_key: hostIdentity().publicKeyPem,
    });
    const before = await snapshot(h.id);
    const pw = 'correct horse battery staple';
    const plain = await addUser(api.db, { password: pw });
    const asPlain = (await webLogin(api, plain.username, pw)).cookie;
    for (const who of [{}, { auth: `Bearer ${api.serviceToken('ssh')}` }, { headers: asPlain }]) {
      const r = await api.call('POST', `/v1/hosts/${h.id}/reset-enrolment`, who);
      assert.ok(r.status === 401 || r.status === 403, `${JSON.stringify(who)}: ${r.status}`);
    }
    assert.equal(await snapshot(h.id), before, 'refused resets change nothing');

    const wrong = await api.call('POST', `/v1/hosts/${h.id}/reset-enrolment`, {
      auth: admin,
      body: { enrolmentTokenId: b.id },
    });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error.message, /^body\.enrolmentTokenId: .*another service/);
    assert.equal(await snapshot(h.id), before, 'a refused binding resets nothing');

    const ok = await api.call('POST', `/v1/hosts/${h.id}/reset-enrolment`, {
      auth: admin,
      body: { enrolmentTokenId: a.id },
    });
    assert.equal(ok.status, 200);
    const ev = await api.db('audit_events').where({ action: 'host.enrolment_reset', target: 'host:a-reset' }).first();
    assert.ok(ev, 'audited');
    assert.equal(ev.data.enrolmentTokenId, a.id);
    assert.equal(ev.data.wasEnrolled, true);

    // PATCH binds too, with the same checks; changing the service drops a binding.
    const h2 = await addHost(api.db, { hostname: 'a-patch', service_id: svcA.id });
    const bad = await api.call('PATCH', `/v1/hosts/${h2.id}`, { auth: admin, body: { enrolmentTokenId: b.id } });
    assert.equal(bad.status, 400);
    const bound = await api.call('PATCH', `/v1/hosts/${h2.id}`, { auth: admin, body: { enrolmentTokenId: a.id } });
    assert.equal(bound.body.enrolmentTokenId, a.id);
    const moved = await api.call('PATCH', `/v1/hosts/${h2.id}`, { auth: admin, body: { serviceId: svcB.id } });
    assert.equal(moved.body.enrolmentTokenId, null);
    const revoked = await token(svcA.id, { revoked_at: new Date() });
    const r = await api.call('POST', '/v1/hosts', {
      auth: admin,
      body: { hostname: 'a-revoked', serviceId: svcA.id, enrolmentTokenId: revoked.id },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /revoked, expired or used up/);
  });

  test('windows hosts and network devices cannot be claimed or bound', async () => {
    const a = await token(svcA.id);
    for (const kind of ['windows', 'netdev']) {
      const h = await addHost(api.db, { hostname: `a-${kind}`, service_id: svcA.id, kind, addresses: ['10.3.0.1'] });
      await api.db('hosts').where({ id: h.id }).update({ enrolment_token_id: a.id });
      const before = await snapshot(h.id);
      const r = await enrol(a.token, `a-${kind}`);
      assert.equal(r.status, 409);
      assert.match(r.body.error.message, new RegExp(`is a ${kind} host; only linux hosts enrol`));
      assert.equal(await snapshot(h.id), before);
      const bind = await api.call('POST', '/v1/hosts', {
        auth: admin,
        body: { hostname: `a-${kind}-2`, kind, serviceId: svcA.id, enrolmentTokenId: a.id },
      });
      assert.equal(bind.status, 400);
      assert.match(bind.body.error.message, /does not run jmp-agent/);
    }
  });

  test("the agent cannot choose its service or host id; new hosts land in the token's service", async () => {
    const a = await token(svcA.id);
    const sneaky = await enrol(a.token, 'a-new', { serviceId: svcB.id });
    assert.equal(sneaky.status, 400);
    assert.match(sneaky.body.error.message, /serviceId/);
    const r = await enrol(a.token, 'a-new');
    assert.equal(r.status, 201);
    const row = await api.db('hosts').where({ id: r.body.hostId }).first();
    assert.equal(row.service_id, svcA.id);
    assert.equal(row.kind, 'linux');
  });

  test('the use limit holds under concurrent enrolments', async () => {
    const a = await token(svcA.id, { max_uses: 2 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => enrol(a.token, `a-race-${i}`)));
    assert.equal(results.filter((r) => r.status === 201).length, 2);
    assert.equal(results.filter((r) => r.status === 401).length, 3);
    assert.equal(await usesOf(a.id), 2);
  });
});
