// Access requests and approvals end to end: real Postgres and Redis, real
// web sessions (cookie + CSRF), every rule of DESIGN "Access model".
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  startApi,
  addUser,
  addDepartment,
  addProject,
  addService,
  addHost,
  addRole,
  webLogin,
  type TestApi,
} from './harness.js';
import { expireRequests } from '../src/requests/repository.js';
import { verifyAuditChain } from '../src/audit/audit.js';
import { decide } from '../src/access/decide.js';

let api: TestApi;
after(async () => {
  await api.close();
});

const PASSWORD = 'correct horse battery';

interface Person {
  id: number;
  username: string;
  h: Record<string, string>;
}

async function person(over: Parameters<typeof addUser>[1] = {}): Promise<Person> {
  const u = await addUser(api.db, { password: PASSWORD, ...over });
  const { cookie } = await webLogin(api, u.username, PASSWORD);
  return { id: u.id, username: u.username, h: cookie };
}

/** A project with one service and one online host, and the people who run the service. */
async function world() {
  const project = await addProject(api.db);
  const service = await addService(api.db, project.id);
  const host = await addHost(api.db, { service_id: service.id });
  const owner = await person();
  const ops = await person();
  const lead = await person();
  await addRole(api.db, owner.id, 'service', service.id, 'owner');
  await addRole(api.db, ops.id, 'service', service.id, 'ops');
  await addRole(api.db, lead.id, 'service', service.id, 'ops', true);
  return { project, service, host, owner, ops, lead };
}

const ask = (who: Person, body: unknown) => api.call('POST', '/v1/requests', { headers: who.h, body });
const act = (who: Person, id: number, action: 'approve' | 'reject' | 'cancel', note?: string) =>
  api.call('POST', `/v1/requests/${id}/${action}`, {
    headers: who.h,
    ...(action === 'cancel' ? {} : { body: note === undefined ? {} : { note } }),
  });
const audits = async (id: number) =>
  (
    await api
      .db('audit_events')
      .where({ target: `request:${id}` })
      .orderBy('id')
  ).map((r) => r.action as string);

let alice: Person;
let admin: Person;
let auditor: Person;
let stranger: Person;
let eng: { id: number; name: string };
let engLeader: Person;
before(async () => {
  api = await startApi();
  engLeader = await person();
  eng = await addDepartment(api.db, { leader_id: engLeader.id });
  const backend = await addDepartment(api.db, { parent_id: eng.id });
  alice = await person({ department_id: backend.id });
  admin = await person({ is_admin: true });
  auditor = await person({ is_auditor: true });
  stranger = await person();
});

describe('authentication', () => {
  test('no session: 401', async () => {
    for (const [m, p] of [
      ['GET', '/v1/requests'],
      ['POST', '/v1/requests'],
      ['GET', '/v1/requests/pending-approval'],
      ['GET', '/v1/requests/1'],
      ['POST', '/v1/requests/1/approve'],
    ] as const) {
      const r = await api.call(m, p, m === 'POST' ? { body: {} } : {});
      assert.equal(r.status, 401, `${m} ${p}`);
      assert.equal(r.body.error.code, 'unauthorized');
    }
  });
  test('cookie POST without the CSRF header: 403', async () => {
    const { host } = await world();
    const r = await api.call('POST', '/v1/requests', {
      headers: { cookie: alice.h.cookie! },
      body: { scope: { type: 'host', id: host.id }, right: 'login', durationSeconds: 3600, reason: 'debug' },
    });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /X-JMP-CSRF/);
    const wrong = await api.call('POST', '/v1/requests', {
      headers: { cookie: alice.h.cookie!, 'x-jmp-csrf': 'nope' },
      body: { scope: { type: 'host', id: host.id }, right: 'login', durationSeconds: 3600, reason: 'debug' },
    });
    assert.equal(wrong.status, 403);
    assert.equal((await api.db('access_requests').where({ scope_type: 'host', scope_id: host.id })).length, 0);
  });
  test('cookie GET needs no CSRF header', async () => {
    const r = await api.call('GET', '/v1/requests', { headers: { cookie: alice.h.cookie! } });
    assert.equal(r.status, 200);
  });
});

describe('bad input: 400 naming the field', () => {
  const good = { scope: { type: 'service', id: 1 }, right: 'login', durationSeconds: 3600, reason: 'debug' };
  const cases: Array<[string, unknown, string]> = [
    ['missing right', { ...good, right: undefined }, 'body.right'],
    ['unknown right', { ...good, right: 'admin' }, 'body.right'],
    ['duration as text', { ...good, durationSeconds: 'long' }, 'body.durationSeconds'],
    ['duration fractional', { ...good, durationSeconds: 60.5 }, 'body.durationSeconds'],
    ['duration too short', { ...good, durationSeconds: 10 }, 'body.durationSeconds'],
    ['scope type', { ...good, scope: { type: 'planet', id: 1 } }, 'body.scope.type'],
    ['scope without id', { ...good, scope: { type: 'service' } }, 'body.scope.id'],
    ['scope id negative', { ...good, scope: { type: 'service', id: -1 } }, 'body.scope.id'],
    ['hostname on a service', { ...good, scope: { type: 'service', hostname: 'web-01' } }, 'body.scope.hostname'],
    ['bad hostname', { ...good, scope: { type: 'host', hostname: 'not a host!' } }, 'body.scope.hostname'],
    ['missing reason', { ...good, reason: undefined }, 'body.reason'],
    ['empty reason', { ...good, reason: '   ' }, 'body.reason'],
    ['user subject', { ...good, subject: { type: 'user', id: 1 } }, 'body.subject.type'],
    ['department subject without id', { ...good, subject: { type: 'department' } }, 'body.subject.id'],
  ];
  for (const [name, body, field] of cases) {
    test(name, async () => {
      const r = await ask(alice, body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'bad_request');
      assert.equal(r.body.error.details.field, field);
      assert.ok(r.body.error.message.startsWith(`${field}:`), r.body.error.message);
    });
  }
  test('path, query and decision body', async () => {
    const p = await api.call('GET', '/v1/requests/abc', { headers: alice.h });
    assert.equal(p.status, 400);
    assert.equal(p.body.error.details.field, 'path.id');
    const q = await api.call('GET', '/v1/requests?status=bogus', { headers: alice.h });
    assert.equal(q.status, 400);
    assert.equal(q.body.error.details.field, 'query.status');
    const n = await api.call('POST', '/v1/requests/1/approve', { headers: alice.h, body: { note: 5 } });
    assert.equal(n.status, 400);
    assert.equal(n.body.error.details.field, 'body.note');
  });
  test('unknown scope or department: 404', async () => {
    for (const scope of [
      { type: 'service', id: 999999 },
      { type: 'project', id: 999999 },
      { type: 'host', id: 999999 },
      { type: 'host', hostname: 'no-such-host' },
    ]) {
      const r = await ask(alice, { ...good, scope });
      assert.equal(r.status, 404, JSON.stringify(scope));
      assert.equal(r.body.error.code, 'not_found');
    }
    const { service } = await world();
    const d = await ask(alice, {
      ...good,
      scope: { type: 'service', id: service.id },
      subject: { type: 'department', id: 999999 },
    });
    assert.equal(d.status, 404);
    assert.match(d.body.error.message, /no department #999999/);
  });
  test('unknown request: 404', async () => {
    assert.equal((await api.call('GET', '/v1/requests/999999', { headers: alice.h })).status, 404);
    assert.equal((await act(admin, 999999, 'approve')).status, 404);
  });
});

describe('login approved by a service owner', () => {
  test('request by hostname, owner approves, grant lasts duration from approval', async () => {
    const w = await world();
    const c = await ask(alice, {
      scope: { type: 'host', hostname: w.host.hostname },
      right: 'login',
      durationSeconds: 7200,
      reason: 'INC-1234 disk full',
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const r = c.body;
    assert.equal(r.status, 'pending');
    assert.deepEqual(r.requester, { id: alice.id, username: alice.username });
    assert.deepEqual(r.subject, { type: 'user', id: alice.id, name: alice.username });
    assert.deepEqual(r.scope, {
      type: 'host',
      id: w.host.id,
      name: w.host.hostname,
      serviceId: w.service.id,
      projectId: w.project.id,
    });
    assert.equal(r.approvers, `an owner or ops of service ${w.service.name}, or an administrator`);
    // pending requests wait requestTtlSeconds (7 days by default)
    assert.ok(Math.abs(Date.parse(r.expiresAt) - Date.parse(r.createdAt) - api.config.requestTtlSeconds * 1000) < 1000);

    const before = Date.now();
    const a = await act(w.owner, r.id, 'approve', 'ok, go');
    const after = Date.now();
    assert.equal(a.status, 200, JSON.stringify(a.body));
    assert.equal(a.body.status, 'approved');
    assert.equal(a.body.decidedBy.id, w.owner.id);
    assert.equal(a.body.decisionNote, 'ok, go');
    assert.ok(a.body.grantId);
    assert.equal(a.body.approvals.length, 1);
    assert.equal(a.body.approvals[0].decision, 'approve');

    const g = await api.db('grants').where({ id: a.body.grantId }).first();
    assert.equal(g.origin, 'request');
    assert.equal(g.request_id, r.id);
    assert.equal(g.subject_type, 'user');
    assert.equal(g.subject_id, alice.id);
    assert.equal(g.scope_type, 'host');
    assert.equal(g.scope_id, w.host.id);
    assert.equal(g.right, 'login');
    assert.equal(g.created_by, w.owner.id);
    assert.ok(g.valid_from.getTime() >= before - 2000 && g.valid_from.getTime() <= after + 2000);
    assert.ok(Math.abs(g.valid_until.getTime() - (g.valid_from.getTime() + 7200_000)) < 2000);
    assert.ok(
      g.valid_until.getTime() >= before + 7200_000 - 2000 && g.valid_until.getTime() <= after + 7200_000 + 2000,
    );

    // The grant is what decide() looks at: alice may now log in, not become root.
    const facts = { id: alice.id, username: alice.username, status: 'active' as const, departmentIds: [] };
    const hostFacts = {
      id: w.host.id,
      hostname: w.host.hostname,
      state: 'online' as const,
      serviceId: w.service.id,
      projectId: w.project.id,
    };
    const grant = {
      id: g.id,
      subjectType: g.subject_type,
      subjectId: g.subject_id,
      scopeType: g.scope_type,
      scopeId: g.scope_id,
      right: g.right,
      validFrom: g.valid_from,
      validUntil: g.valid_until,
      revokedAt: g.revoked_at,
    };
    const d = decide(facts, hostFacts, 'login', [], [grant]);
    assert.equal(d.allow, true);
    assert.deepEqual(d.via, { kind: 'grant', grantId: g.id });
    assert.equal(decide(facts, hostFacts, 'root', [], [grant]).allow, false);
    assert.equal(
      decide(facts, hostFacts, 'login', [], [grant], new Date(g.valid_until.getTime() + 1000)).allow,
      false,
      'expires on its own',
    );

    const row = await api.db('access_requests').where({ id: r.id }).first();
    assert.equal(row.status, 'approved');
    assert.equal(row.grant_id, g.id);
    assert.equal(row.decided_by, w.owner.id);
    assert.ok(row.decided_at);
    const appr = await api.db('request_approvals').where({ request_id: r.id });
    assert.equal(appr.length, 1);
    assert.equal(appr[0].approver_id, w.owner.id);
    assert.equal(appr[0].note, 'ok, go');
    assert.deepEqual(await audits(r.id), ['request.created', 'request.approved']);
    const ev = await api
      .db('audit_events')
      .where({ target: `request:${r.id}`, action: 'request.approved' })
      .first();
    assert.equal(ev.actor, `user:${w.owner.username}`);
    assert.equal(ev.data.grantId, g.id);
  });

  test('service ops may approve login too; a stranger may not', async () => {
    const w = await world();
    const r = (
      await ask(alice, {
        scope: { type: 'service', id: w.service.id },
        right: 'login',
        durationSeconds: 600,
        reason: 'x',
      })
    ).body;
    const s = await act(stranger, r.id, 'approve');
    assert.equal(s.status, 403);
    assert.equal(
      s.body.error.message,
      `login on service ${w.service.name} must be approved by an owner or ops of service ${w.service.name}`,
    );
    assert.equal((await act(w.ops, r.id, 'approve')).status, 200);
  });

  test('project scope: project owner approves login, a service owner of the project may not', async () => {
    const w = await world();
    const projOwner = await person();
    await addRole(api.db, projOwner.id, 'project', w.project.id, 'owner');
    const r = (
      await ask(alice, {
        scope: { type: 'project', id: w.project.id },
        right: 'login',
        durationSeconds: 600,
        reason: 'x',
      })
    ).body;
    assert.equal(r.approvers, `an owner or ops of project ${w.project.name}, or an administrator`);
    const o = await act(w.owner, r.id, 'approve');
    assert.equal(o.status, 403);
    assert.match(o.body.error.message, new RegExp(`must be approved by an owner or ops of project ${w.project.name}`));
    const a = await act(projOwner, r.id, 'approve');
    assert.equal(a.status, 200);
    const g = await api.db('grants').where({ id: a.body.grantId }).first();
    assert.equal(g.scope_type, 'project');
    assert.equal(g.scope_id, w.project.id);
  });
});

describe('root needs the ops lead', () => {
  test('owner and plain ops get 403 naming the ops lead; the lead approves', async () => {
    const w = await world();
    const r = (
      await ask(alice, {
        scope: { type: 'host', id: w.host.id },
        right: 'root',
        durationSeconds: 3600,
        reason: 'kernel upgrade',
      })
    ).body;
    for (const who of [w.owner, w.ops]) {
      const x = await act(who, r.id, 'approve');
      assert.equal(x.status, 403);
      assert.equal(
        x.body.error.message,
        `root on host ${w.host.hostname} must be approved by an ops lead of service ${w.service.name}`,
      );
      const y = await act(who, r.id, 'reject');
      assert.equal(y.status, 403, 'cannot reject either');
    }
    const a = await act(w.lead, r.id, 'approve');
    assert.equal(a.status, 200);
    const g = await api.db('grants').where({ id: a.body.grantId }).first();
    assert.equal(g.right, 'root');
    assert.equal(g.created_by, w.lead.id);
  });
  test('project scope: project ops lead', async () => {
    const w = await world();
    const projOps = await person();
    const projLead = await person();
    await addRole(api.db, projOps.id, 'project', w.project.id, 'ops');
    await addRole(api.db, projLead.id, 'project', w.project.id, 'ops', true);
    const r = (
      await ask(alice, {
        scope: { type: 'project', id: w.project.id },
        right: 'root',
        durationSeconds: 3600,
        reason: 'x',
      })
    ).body;
    assert.equal((await act(w.lead, r.id, 'approve')).status, 403, 'a service lead does not approve for the project');
    assert.equal((await act(projOps, r.id, 'approve')).status, 403);
    assert.equal((await act(projLead, r.id, 'approve')).status, 200);
  });
});

describe('nobody approves their own request', () => {
  test('the ops lead asking for themselves', async () => {
    const w = await world();
    const r = (
      await ask(w.lead, {
        scope: { type: 'service', id: w.service.id },
        right: 'root',
        durationSeconds: 3600,
        reason: 'x',
      })
    ).body;
    assert.equal(r.status, 'pending');
    const x = await act(w.lead, r.id, 'approve');
    assert.equal(x.status, 403);
    assert.match(x.body.error.message, /cannot approve or reject your own request; an ops lead of service/);
    assert.equal((await act(w.lead, r.id, 'reject')).status, 403);
    assert.equal((await api.db('access_requests').where({ id: r.id }).first()).status, 'pending');
  });
  test('not even an administrator', async () => {
    const w = await world();
    const r = (
      await ask(admin, {
        scope: { type: 'service', id: w.service.id },
        right: 'login',
        durationSeconds: 3600,
        reason: 'x',
      })
    ).body;
    assert.equal((await act(admin, r.id, 'approve')).status, 403);
    assert.equal((await act(w.owner, r.id, 'approve')).status, 200);
  });
});

describe('administrators are break-glass approvers', () => {
  test('root on a service without any role, and a host without a service', async () => {
    const w = await world();
    const r = (
      await ask(alice, {
        scope: { type: 'service', id: w.service.id },
        right: 'root',
        durationSeconds: 3600,
        reason: 'x',
      })
    ).body;
    const a = await act(admin, r.id, 'approve');
    assert.equal(a.status, 200);
    const ev = await api
      .db('audit_events')
      .where({ target: `request:${r.id}`, action: 'request.approved' })
      .first();
    assert.equal(ev.data.as, 'administrator (break-glass)');

    const lonely = await addHost(api.db, { service_id: null });
    const o = (
      await ask(alice, { scope: { type: 'host', id: lonely.id }, right: 'login', durationSeconds: 3600, reason: 'x' })
    ).body;
    assert.match(o.approvers, /^an administrator \(host .* belongs to no service\)$/);
    assert.equal((await act(w.lead, o.id, 'approve')).status, 403);
    assert.equal((await act(admin, o.id, 'approve')).status, 200);
  });
});

describe('decisions are final', () => {
  test('approve twice, reject or cancel after approval: 409', async () => {
    const w = await world();
    const r = (
      await ask(alice, {
        scope: { type: 'service', id: w.service.id },
        right: 'login',
        durationSeconds: 600,
        reason: 'x',
      })
    ).body;
    assert.equal((await act(w.owner, r.id, 'approve')).status, 200);
    const again = await act(w.ops, r.id, 'approve');
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'conflict');
    assert.match(
      again.body.error.message,
      new RegExp(`request #${r.id} is already approved \\(by ${w.owner.username}\\)`),
    );
    assert.equal((await act(w.owner, r.id, 'reject')).status, 409);
    assert.equal((await act(alice, r.id, 'cancel')).status, 409);
    assert.equal((await api.db('grants').where({ request_id: r.id })).length, 1, 'one grant only');
    assert.equal((await api.db('request_approvals').where({ request_id: r.id })).length, 1);
  });
  test('concurrent approvals create one grant', async () => {
    const w = await world();
    const r = (
      await ask(alice, {
        scope: { type: 'service', id: w.service.id },
        right: 'login',
        durationSeconds: 600,
        reason: 'x',
      })
    ).body;
    const res = await Promise.all([
      act(w.owner, r.id, 'approve'),
      act(w.ops, r.id, 'approve'),
      act(w.lead, r.id, 'approve'),
    ]);
    assert.deepEqual(res.map((x) => x.status).sort(), [200, 409, 409]);
    assert.equal((await api.db('grants').where({ request_id: r.id })).length, 1);
  });
});

describe('reject, cancel, expiry are recorded', () => {
  test('reject', async () => {
    const w = await world();
    const r = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    const x = await act(w.owner, r.id, 'reject', 'use the staging host');
    assert.equal(x.status, 200);
    assert.equal(x.body.status, 'rejected');
    assert.equal(x.body.grantId, null);
    const row = await api.db('access_requests').where({ id: r.id }).first();
    assert.equal(row.status, 'rejected');
    assert.equal(row.decided_by, w.owner.id);
    assert.equal(row.decision_note, 'use the staging host');
    assert.ok(row.decided_at);
    const appr = await api.db('request_approvals').where({ request_id: r.id });
    assert.deepEqual(
      appr.map((a) => [a.approver_id, a.decision, a.note]),
      [[w.owner.id, 'reject', 'use the staging host']],
    );
    assert.equal((await api.db('grants').where({ request_id: r.id })).length, 0);
    assert.deepEqual(await audits(r.id), ['request.created', 'request.rejected']);
  });
  test('cancel: only the requester, only while pending', async () => {
    const w = await world();
    const r = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    for (const who of [w.owner, admin]) {
      const x = await act(who, r.id, 'cancel');
      assert.equal(x.status, 403);
      assert.match(x.body.error.message, /only the requester may cancel/);
    }
    const c = await act(alice, r.id, 'cancel');
    assert.equal(c.status, 200);
    assert.equal(c.body.status, 'cancelled');
    const row = await api.db('access_requests').where({ id: r.id }).first();
    assert.equal(row.status, 'cancelled');
    assert.equal(row.decided_by, alice.id);
    assert.ok(row.decided_at);
    assert.equal((await api.db('request_approvals').where({ request_id: r.id })).length, 0);
    assert.deepEqual(await audits(r.id), ['request.created', 'request.cancelled']);
    assert.equal((await act(w.owner, r.id, 'approve')).status, 409);
    assert.equal((await act(alice, r.id, 'cancel')).status, 409);
  });
  test('expiry, lazily on read', async () => {
    const w = await world();
    const r = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    await api
      .db('access_requests')
      .where({ id: r.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const g = await api.call('GET', `/v1/requests/${r.id}`, { headers: alice.h });
    assert.equal(g.status, 200);
    assert.equal(g.body.status, 'expired');
    assert.ok(g.body.decidedAt);
    assert.equal(g.body.decidedBy, null);
    assert.deepEqual(await audits(r.id), ['request.created', 'request.expired']);
    const ev = await api
      .db('audit_events')
      .where({ target: `request:${r.id}`, action: 'request.expired' })
      .first();
    assert.equal(ev.actor, 'system:expiry');
    const x = await act(w.owner, r.id, 'approve');
    assert.equal(x.status, 409);
    assert.match(x.body.error.message, /already expired/);
    assert.equal((await api.db('grants').where({ request_id: r.id })).length, 0);
  });
  test('expiry, when the approver acts on an overdue request', async () => {
    const w = await world();
    const r = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    await api
      .db('access_requests')
      .where({ id: r.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    assert.equal((await act(w.owner, r.id, 'approve')).status, 409);
    assert.equal((await api.db('access_requests').where({ id: r.id }).first()).status, 'expired');
  });
  test('expireRequests(db, now) for a timer', async () => {
    const w = await world();
    const r1 = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    const r2 = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'y' })
    ).body;
    await api
      .db('access_requests')
      .where({ id: r1.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const ids = await expireRequests(api.db, new Date());
    assert.ok(ids.includes(r1.id));
    assert.ok(!ids.includes(r2.id));
    assert.deepEqual(await expireRequests(api.db, new Date()), [], 'each request expires once');
    const row = await api.db('access_requests').where({ id: r1.id }).first();
    assert.equal(row.status, 'expired');
    assert.equal(row.decision_note, 'not decided before it expired');
    assert.deepEqual(await audits(r1.id), ['request.created', 'request.expired']);
    assert.equal((await api.db('access_requests').where({ id: r2.id }).first()).status, 'pending');
  });
});

describe('limits: max duration, narrowest policy wins', () => {
  const putPolicy = (body: Record<string, unknown>) =>
    api.call('PUT', '/v1/request-policies', { headers: admin.h, body });

  test('built-in default: 7 days login, 1 day root', async () => {
    const w = await world();
    const r = await ask(alice, {
      scope: { type: 'service', id: w.service.id },
      right: 'root',
      durationSeconds: 86401,
      reason: 'x',
    });
    assert.equal(r.status, 403);
    assert.equal(
      r.body.error.message,
      `root on service ${w.service.name} may be requested for at most 86400 s (built-in default)`,
    );
    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: w.service.id },
          right: 'root',
          durationSeconds: 86400,
          reason: 'x',
        })
      ).status,
      201,
    );
    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: w.service.id },
          right: 'login',
          durationSeconds: 7 * 86400 + 1,
          reason: 'x',
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: w.service.id },
          right: 'login',
          durationSeconds: 7 * 86400,
          reason: 'x',
        })
      ).status,
      201,
    );
  });

  test('service policy beats project policy; project policy beats the default', async () => {
    const w = await world();
    const other = await addService(api.db, w.project.id);
    const otherHost = await addHost(api.db, { service_id: other.id });
    assert.equal(
      (await putPolicy({ scopeType: 'project', scopeId: w.project.id, right: 'login', maxSeconds: 3600 })).status,
      200,
    );
    assert.equal(
      (await putPolicy({ scopeType: 'service', scopeId: w.service.id, right: 'login', maxSeconds: 600 })).status,
      200,
    );

    const h = await ask(alice, {
      scope: { type: 'host', id: w.host.id },
      right: 'login',
      durationSeconds: 601,
      reason: 'x',
    });
    assert.equal(h.status, 403);
    assert.equal(
      h.body.error.message,
      `login on host ${w.host.hostname} may be requested for at most 600 s (policy of service ${w.service.name})`,
    );
    assert.equal(
      (await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' }))
        .status,
      201,
    );

    const o = await ask(alice, {
      scope: { type: 'host', id: otherHost.id },
      right: 'login',
      durationSeconds: 3601,
      reason: 'x',
    });
    assert.equal(o.status, 403);
    assert.equal(
      o.body.error.message,
      `login on host ${otherHost.hostname} may be requested for at most 3600 s (policy of project ${w.project.name})`,
    );
    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: other.id },
          right: 'login',
          durationSeconds: 3600,
          reason: 'x',
        })
      ).status,
      201,
    );

    const p = await ask(alice, {
      scope: { type: 'project', id: w.project.id },
      right: 'login',
      durationSeconds: 3601,
      reason: 'x',
    });
    assert.equal(p.status, 403, 'a project scope uses the project policy, not a service one');

    // policies are per right: root is still the built-in default
    assert.equal(
      (await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'root', durationSeconds: 86400, reason: 'x' }))
        .status,
      201,
    );
  });

  test('department restriction on who may ask (sub-departments included)', async () => {
    const w = await world();
    const r = await putPolicy({
      scopeType: 'service',
      scopeId: w.service.id,
      right: 'root',
      maxSeconds: 3600,
      allowedDepartmentIds: [eng.id],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.allowedDepartmentIds, [eng.id]);
    assert.equal(
      (await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'root', durationSeconds: 3600, reason: 'x' }))
        .status,
      201,
      'alice is in a sub-department of eng',
    );
    const s = await ask(stranger, {
      scope: { type: 'host', id: w.host.id },
      right: 'root',
      durationSeconds: 3600,
      reason: 'x',
    });
    assert.equal(s.status, 403);
    assert.equal(
      s.body.error.message,
      `root on host ${w.host.hostname} may only be requested for members of department ${eng.name} or their sub-departments, and you are not (policy of service ${w.service.name})`,
    );
    assert.equal(
      (
        await ask(stranger, {
          scope: { type: 'host', id: w.host.id },
          right: 'login',
          durationSeconds: 3600,
          reason: 'x',
        })
      ).status,
      201,
      'login has no restriction',
    );
  });
});

describe('department subjects', () => {
  test('only the department leader (or an admin) may ask for the department', async () => {
    const w = await world();
    const body = {
      scope: { type: 'service', id: w.service.id },
      right: 'login',
      durationSeconds: 3600,
      reason: 'team on-call',
      subject: { type: 'department', id: eng.id },
    };
    const a = await ask(alice, body);
    assert.equal(a.status, 403);
    assert.equal(
      a.body.error.message,
      `only the leader of department ${eng.name} or an administrator may request access for the whole department`,
    );
    const l = await ask(engLeader, body);
    assert.equal(l.status, 201);
    assert.deepEqual(l.body.subject, { type: 'department', id: eng.id, name: eng.name });
    assert.equal((await ask(admin, body)).status, 201);

    const ok = await act(w.owner, l.body.id, 'approve');
    assert.equal(ok.status, 200);
    const g = await api.db('grants').where({ id: ok.body.grantId }).first();
    assert.equal(g.subject_type, 'department');
    assert.equal(g.subject_id, eng.id);
  });
  test('a policy may forbid department subjects', async () => {
    const w = await world();
    await api.call('PUT', '/v1/request-policies', {
      headers: admin.h,
      body: {
        scopeType: 'project',
        scopeId: w.project.id,
        right: 'login',
        maxSeconds: 3600,
        allowDepartmentSubjects: false,
      },
    });
    const r = await ask(engLeader, {
      scope: { type: 'host', id: w.host.id },
      right: 'login',
      durationSeconds: 600,
      reason: 'x',
      subject: { type: 'department', id: eng.id },
    });
    assert.equal(r.status, 403);
    assert.match(
      r.body.error.message,
      /may not be requested for a whole department \(policy of project .*\); request it for yourself/,
    );
    assert.equal(
      (
        await ask(engLeader, {
          scope: { type: 'host', id: w.host.id },
          right: 'login',
          durationSeconds: 600,
          reason: 'x',
        })
      ).status,
      201,
    );
  });
});

describe('pending-approval shows exactly what the caller may approve', () => {
  test('owner, ops lead, project owner, stranger, admin', async () => {
    const w = await world();
    const elsewhere = await world();
    const projOwner = await person();
    await addRole(api.db, projOwner.id, 'project', w.project.id, 'owner');
    const mk = async (who: Person, scope: unknown, right: string) =>
      (await ask(who, { scope, right, durationSeconds: 600, reason: 'x' })).body.id as number;
    const loginHost = await mk(alice, { type: 'host', id: w.host.id }, 'login');
    const rootSvc = await mk(alice, { type: 'service', id: w.service.id }, 'root');
    const ownersOwn = await mk(w.owner, { type: 'host', id: w.host.id }, 'login');
    const loginProject = await mk(alice, { type: 'project', id: w.project.id }, 'login');
    const otherSvc = await mk(alice, { type: 'service', id: elsewhere.service.id }, 'login');
    const decided = await mk(alice, { type: 'host', id: w.host.id }, 'login');
    await act(alice, decided, 'cancel');

    const ids = async (who: Person) => {
      const r = await api.call('GET', '/v1/requests/pending-approval', { headers: who.h });
      assert.equal(r.status, 200);
      return (r.body.requests as Array<{ id: number }>).map((x) => x.id);
    };
    assert.deepEqual(await ids(w.owner), [loginHost]);
    assert.deepEqual(await ids(w.ops), [loginHost, ownersOwn]);
    assert.deepEqual(await ids(w.lead), [loginHost, rootSvc, ownersOwn]);
    assert.deepEqual(await ids(projOwner), [loginProject]);
    assert.deepEqual(await ids(elsewhere.owner), [otherSvc]);
    assert.deepEqual(await ids(stranger), []);
    const all = await ids(admin);
    for (const id of [loginHost, rootSvc, ownersOwn, loginProject, otherSvc])
      assert.ok(all.includes(id), `admin sees #${id}`);
    assert.ok(!all.includes(decided));

    // each listed request can indeed be approved by that caller
    assert.equal((await act(w.owner, loginHost, 'approve')).status, 200);
    assert.deepEqual(await ids(w.owner), []);
    assert.deepEqual(await ids(w.lead), [rootSvc, ownersOwn]);
  });
});

describe('reading requests', () => {
  test('GET /v1/requests/:id: requester, eligible approver, admin, auditor; not others', async () => {
    const w = await world();
    const r = (
      await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'root', durationSeconds: 600, reason: 'x' })
    ).body;
    for (const who of [alice, w.lead, admin, auditor]) {
      const g = await api.call('GET', `/v1/requests/${r.id}`, { headers: who.h });
      assert.equal(g.status, 200, who.username);
      assert.equal(g.body.id, r.id);
      assert.deepEqual(g.body.approvals, []);
    }
    for (const who of [stranger, w.owner]) {
      const g = await api.call('GET', `/v1/requests/${r.id}`, { headers: who.h });
      assert.equal(g.status, 403, who.username);
      assert.match(g.body.error.message, /visible to its requester, to an ops lead of service/);
    }
  });
  test("GET /v1/requests lists the caller's own, filtered by status", async () => {
    const w = await world();
    const bob = await person();
    const r1 = (
      await ask(bob, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'x' })
    ).body;
    const r2 = (
      await ask(bob, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'y' })
    ).body;
    await ask(alice, { scope: { type: 'host', id: w.host.id }, right: 'login', durationSeconds: 600, reason: 'z' });
    await act(bob, r1.id, 'cancel');
    const mine = await api.call('GET', '/v1/requests?mine=1', { headers: bob.h });
    assert.equal(mine.status, 200);
    assert.deepEqual(
      mine.body.requests.map((x: { id: number }) => x.id),
      [r2.id, r1.id],
    );
    const pending = await api.call('GET', '/v1/requests?status=pending', { headers: bob.h });
    assert.deepEqual(
      pending.body.requests.map((x: { id: number }) => x.id),
      [r2.id],
    );
    const paged = await api.call('GET', `/v1/requests?limit=1&before=${r2.id}`, { headers: bob.h });
    assert.deepEqual(
      paged.body.requests.map((x: { id: number }) => x.id),
      [r1.id],
    );
    const everyone = await api.call('GET', '/v1/requests?mine=0', { headers: bob.h });
    assert.equal(everyone.status, 403);
    const asAuditor = await api.call('GET', '/v1/requests?mine=0&limit=500', { headers: auditor.h });
    assert.equal(asAuditor.status, 200);
    assert.ok(asAuditor.body.requests.some((x: { requester: { id: number } }) => x.requester.id === alice.id));
  });
});

describe('request policies (administrators)', () => {
  test('non-admins: 403; no session: 401', async () => {
    assert.equal((await api.call('GET', '/v1/request-policies', { headers: alice.h })).status, 403);
    assert.equal((await api.call('PUT', '/v1/request-policies', { headers: alice.h, body: {} })).status, 403);
    assert.equal((await api.call('GET', '/v1/request-policies')).status, 401);
  });
  test('PUT upserts by (scopeType, scopeId, right); GET lists; DELETE removes', async () => {
    const w = await world();
    const base = { scopeType: 'service', scopeId: w.service.id, right: 'root' };
    const a = await api.call('PUT', '/v1/request-policies', { headers: admin.h, body: { ...base, maxSeconds: 1800 } });
    assert.equal(a.status, 200);
    assert.deepEqual(
      { ...a.body, id: 0 },
      { id: 0, ...base, maxSeconds: 1800, allowedDepartmentIds: null, allowDepartmentSubjects: true },
    );
    const b = await api.call('PUT', '/v1/request-policies', {
      headers: admin.h,
      body: { ...base, maxSeconds: 900, allowedDepartmentIds: [eng.id], allowDepartmentSubjects: false },
    });
    assert.equal(b.status, 200);
    assert.equal(b.body.id, a.body.id, 'same row');
    assert.equal(b.body.maxSeconds, 900);
    const l = await api.call('GET', `/v1/request-policies?scopeType=service&scopeId=${w.service.id}`, {
      headers: admin.h,
    });
    assert.equal(l.status, 200);
    assert.deepEqual(l.body.policies, [b.body]);
    const viaToken = await api.call('GET', '/v1/request-policies', { auth: `Bearer ${api.serviceToken('admin')}` });
    assert.equal(viaToken.status, 200);

    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: w.service.id },
          right: 'root',
          durationSeconds: 901,
          reason: 'x',
        })
      ).status,
      403,
    );
    const d = await api.call('DELETE', `/v1/request-policies?scopeType=service&scopeId=${w.service.id}&right=root`, {
      headers: admin.h,
    });
    assert.equal(d.status, 204);
    assert.equal(
      (
        await api.call('DELETE', `/v1/request-policies?scopeType=service&scopeId=${w.service.id}&right=root`, {
          headers: admin.h,
        })
      ).status,
      404,
    );
    assert.equal(
      (
        await ask(alice, {
          scope: { type: 'service', id: w.service.id },
          right: 'root',
          durationSeconds: 901,
          reason: 'x',
        })
      ).status,
      201,
      'back to the default',
    );
    const ev = await api
      .db('audit_events')
      .whereIn('action', ['request_policy.set', 'request_policy.deleted'])
      .andWhere({ target: `service:${w.service.id}:root` })
      .orderBy('id');
    assert.deepEqual(
      ev.map((e) => e.action),
      ['request_policy.set', 'request_policy.set', 'request_policy.deleted'],
    );
  });
  test('bad input: 400 naming the field; unknown scope: 404', async () => {
    const w = await world();
    const put = (body: unknown) => api.call('PUT', '/v1/request-policies', { headers: admin.h, body });
    const good = { scopeType: 'service', scopeId: w.service.id, right: 'login', maxSeconds: 600 };
    for (const [body, field] of [
      [{ ...good, scopeType: 'host' }, 'body.scopeType'],
      [{ ...good, maxSeconds: 0 }, 'body.maxSeconds'],
      [{ ...good, right: 'sudo' }, 'body.right'],
      [{ ...good, allowedDepartmentIds: 'eng' }, 'body.allowedDepartmentIds'],
      [{ ...good, allowedDepartmentIds: [999999] }, 'body.allowedDepartmentIds'],
    ] as const) {
      const r = await put(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.details.field, field);
    }
    assert.equal((await put({ ...good, scopeId: 999999 })).status, 404);
    const d = await api.call('DELETE', '/v1/request-policies?scopeType=service', { headers: admin.h });
    assert.equal(d.status, 400);
    assert.equal(d.body.error.details.field, 'query.scopeId');
  });
});

test('openapi lists the request endpoints', async () => {
  const r = await api.call('GET', '/v1/openapi.json');
  for (const p of [
    '/v1/requests',
    '/v1/requests/pending-approval',
    '/v1/requests/{id}',
    '/v1/requests/{id}/approve',
    '/v1/requests/{id}/reject',
    '/v1/requests/{id}/cancel',
    '/v1/request-policies',
  ]) {
    assert.ok(r.body.paths[p], p);
  }
  assert.ok(r.body.paths['/v1/request-policies'].put && r.body.paths['/v1/request-policies'].delete);
});

test('the audit chain stays intact after all of the above', async () => {
  const v = await verifyAuditChain(api.db);
  assert.equal(v.ok, true);
  assert.ok(v.checked > 50);
});
