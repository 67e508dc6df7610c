import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  builtInPolicy,
  canSee,
  checkApprove,
  checkAsk,
  effectivePolicy,
  requirement,
  type Approver,
  type AskInput,
  type Policy,
  type RequestTarget,
} from './rules.js';

const host: RequestTarget = {
  type: 'host',
  id: 100,
  name: 'web-01',
  serviceId: 5,
  serviceName: 'web',
  projectId: 7,
  projectName: 'shop',
};
const service: RequestTarget = {
  type: 'service',
  id: 5,
  name: 'web',
  serviceId: 5,
  serviceName: 'web',
  projectId: 7,
  projectName: 'shop',
};
const project: RequestTarget = {
  type: 'project',
  id: 7,
  name: 'shop',
  serviceId: null,
  serviceName: null,
  projectId: 7,
  projectName: 'shop',
};
const orphan: RequestTarget = {
  type: 'host',
  id: 101,
  name: 'lost-01',
  serviceId: null,
  serviceName: null,
  projectId: null,
  projectName: null,
};

const pol = (over: Partial<Policy>): Policy => ({
  scopeType: 'service',
  scopeId: 5,
  right: 'login',
  maxSeconds: 3600,
  allowedDepartmentIds: null,
  allowDepartmentSubjects: true,
  ...over,
});

describe('effective policy: the narrowest scope wins', () => {
  const svcLogin = pol({});
  const projLogin = pol({ scopeType: 'project', scopeId: 7, maxSeconds: 7200 });
  const projRoot = pol({ scopeType: 'project', scopeId: 7, right: 'root', maxSeconds: 600 });
  const other = pol({ scopeId: 6, maxSeconds: 10 });
  const all = [other, projLogin, svcLogin, projRoot];

  test('host uses its service policy before its project policy', () => {
    assert.equal(effectivePolicy(host, 'login', all), svcLogin);
  });
  test('service uses its own policy', () => {
    assert.equal(effectivePolicy(service, 'login', all), svcLogin);
  });
  test('policies are per right: root falls back to the project', () => {
    assert.equal(effectivePolicy(host, 'root', all), projRoot);
  });
  test('project scope ignores service policies', () => {
    assert.equal(effectivePolicy(project, 'login', [svcLogin]).scopeType, 'default');
    assert.equal(effectivePolicy(project, 'login', all), projLogin);
  });
  test('nothing applies: built-in default (7 days login, 1 day root, anyone, departments allowed)', () => {
    assert.deepEqual(effectivePolicy(host, 'login', [other]), builtInPolicy('login'));
    assert.equal(builtInPolicy('login').maxSeconds, 7 * 86400);
    assert.equal(builtInPolicy('root').maxSeconds, 86400);
    assert.equal(builtInPolicy('root').allowedDepartmentIds, null);
    assert.equal(builtInPolicy('root').allowDepartmentSubjects, true);
    assert.equal(effectivePolicy(orphan, 'root', all).scopeType, 'default');
  });
});

describe('who may ask, for how long', () => {
  const alice = { id: 1, username: 'alice', isAdmin: false, departmentIds: [20, 10] };
  const base: AskInput = {
    requester: alice,
    subject: { type: 'user' },
    target: service,
    right: 'root',
    durationSeconds: 3600,
    policy: builtInPolicy('root'),
  };

  test('within the limit', () => {
    const v = checkAsk(base);
    assert.equal(v.ok, true);
    assert.match(v.reason, /built-in default/);
  });
  test('over the limit names the limit and the policy', () => {
    const v = checkAsk({ ...base, durationSeconds: 86401 });
    assert.deepEqual(v, {
      ok: false,
      reason: 'root on service web may be requested for at most 86400 s (built-in default)',
    });
  });
  test('exactly the limit is fine', () => {
    assert.equal(checkAsk({ ...base, durationSeconds: 86400 }).ok, true);
  });
  test('the policy label names the scope of the policy', () => {
    const v = checkAsk({ ...base, target: host, policy: pol({ right: 'root', maxSeconds: 60 }) });
    assert.equal(v.ok, false);
    assert.match(v.reason, /^root on host web-01 may be requested for at most 60 s \(policy of service web\)$/);
  });
  test('department restriction admits members and sub-department members', () => {
    assert.equal(
      checkAsk({ ...base, policy: pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [20] }) }).ok,
      true,
    );
    assert.equal(
      checkAsk({ ...base, policy: pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [10] }) }).ok,
      true,
      'member of a sub-department of 10',
    );
    const v = checkAsk({
      ...base,
      policy: pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [30, 31] }),
      departmentNames: new Map([[30, 'sre']]),
    });
    assert.equal(v.ok, false);
    assert.match(v.reason, /members of departments sre, #31 or their sub-departments, and you are not/);
  });
  test('no department at all: not a member of anything', () => {
    assert.equal(
      checkAsk({
        ...base,
        requester: { ...alice, departmentIds: [] },
        policy: pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [10] }),
      }).ok,
      false,
    );
  });
  test('an empty allowed list admits nobody', () => {
    assert.equal(
      checkAsk({ ...base, policy: pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [] }) }).ok,
      false,
    );
  });

  const dept = { type: 'department' as const, id: 40, name: 'payments', leaderId: 1, departmentIds: [40, 10] };
  test('a department leader may ask for the department', () => {
    assert.equal(checkAsk({ ...base, subject: dept }).ok, true);
  });
  test('a non-leader may not ask for a department', () => {
    const v = checkAsk({ ...base, subject: { ...dept, leaderId: 2 } });
    assert.equal(v.ok, false);
    assert.match(v.reason, /only the leader of department payments or an administrator/);
  });
  test('an administrator may ask for any department', () => {
    assert.equal(
      checkAsk({ ...base, requester: { ...alice, isAdmin: true }, subject: { ...dept, leaderId: null } }).ok,
      true,
    );
  });
  test('policy may forbid department subjects', () => {
    const v = checkAsk({
      ...base,
      subject: dept,
      policy: pol({ right: 'root', maxSeconds: 86400, allowDepartmentSubjects: false }),
    });
    assert.equal(v.ok, false);
    assert.match(v.reason, /may not be requested for a whole department/);
  });
  test('for a department subject the department asked for must be allowed, not the requester', () => {
    const p = pol({ right: 'root', maxSeconds: 86400, allowedDepartmentIds: [10] });
    assert.equal(checkAsk({ ...base, requester: { ...alice, departmentIds: [] }, subject: dept, policy: p }).ok, true);
    const v = checkAsk({ ...base, subject: { ...dept, departmentIds: [41] }, policy: p });
    assert.equal(v.ok, false);
    assert.match(v.reason, /department payments is not/);
  });
  test('administrators are bound by the duration limit', () => {
    assert.equal(checkAsk({ ...base, requester: { ...alice, isAdmin: true }, durationSeconds: 86401 }).ok, false);
  });
});

describe('who may approve', () => {
  const nobody: Approver = { id: 9, isAdmin: false, roles: [] };
  const as = (roles: Approver['roles'], over: Partial<Approver> = {}): Approver => ({ ...nobody, roles, ...over });
  const svcOwner = as([{ scopeType: 'service', scopeId: 5, role: 'owner', opsLead: false }]);
  const svcOps = as([{ scopeType: 'service', scopeId: 5, role: 'ops', opsLead: false }]);
  const svcLead = as([{ scopeType: 'service', scopeId: 5, role: 'ops', opsLead: true }]);
  const projOwner = as([{ scopeType: 'project', scopeId: 7, role: 'owner', opsLead: false }]);
  const projLead = as([{ scopeType: 'project', scopeId: 7, role: 'ops', opsLead: true }]);
  const otherLead = as([{ scopeType: 'service', scopeId: 6, role: 'ops', opsLead: true }]);
  const admin = as([], { isAdmin: true });

  const table: Array<[string, Approver, RequestTarget, 'login' | 'root', boolean]> = [
    ['service owner, login on host', svcOwner, host, 'login', true],
    ['service ops, login on service', svcOps, service, 'login', true],
    ['service ops lead, login on host', svcLead, host, 'login', true],
    ['service owner, root on host', svcOwner, host, 'root', false],
    ['service ops, root on host', svcOps, host, 'root', false],
    ['service ops lead, root on host', svcLead, host, 'root', true],
    ['service ops lead, root on service', svcLead, service, 'root', true],
    ['lead of another service, root on host', otherLead, host, 'root', false],
    ['project owner, login on host (service decides)', projOwner, host, 'login', false],
    ['project owner, login on project', projOwner, project, 'login', true],
    ['project owner, root on project', projOwner, project, 'root', false],
    ['project ops lead, root on project', projLead, project, 'root', true],
    ['service ops lead, root on project', svcLead, project, 'root', false],
    ['admin, root on host', admin, host, 'root', true],
    ['admin, login on a host with no service', admin, orphan, 'login', true],
    ['service lead, login on a host with no service', svcLead, orphan, 'login', false],
    ['nobody, login on host', nobody, host, 'login', false],
  ];
  for (const [name, who, target, right, ok] of table) {
    test(`${name}: ${ok}`, () => {
      assert.equal(checkApprove(who, { requesterId: 1, right, target }).ok, ok);
    });
  }
  test('refusal names the required approver', () => {
    assert.deepEqual(checkApprove(svcOwner, { requesterId: 1, right: 'root', target: host }), {
      ok: false,
      reason: 'root on host web-01 must be approved by an ops lead of service web',
    });
    assert.deepEqual(checkApprove(nobody, { requesterId: 1, right: 'login', target: project }), {
      ok: false,
      reason: 'login on project shop must be approved by an owner or ops of project shop',
    });
    assert.match(
      checkApprove(nobody, { requesterId: 1, right: 'login', target: orphan }).reason,
      /an administrator \(host lost-01 belongs to no service\)/,
    );
  });
  test('nobody approves their own request, not even an administrator or the ops lead', () => {
    for (const who of [svcLead, admin]) {
      const v = checkApprove(who, { requesterId: who.id, right: 'root', target: host });
      assert.equal(v.ok, false);
      assert.match(v.reason, /your own request/);
    }
  });
  test('the reason names the role that allowed it', () => {
    assert.equal(
      checkApprove(svcLead, { requesterId: 1, right: 'root', target: host }).reason,
      'ops lead of service web',
    );
    assert.equal(
      checkApprove(admin, { requesterId: 1, right: 'root', target: host }).reason,
      'administrator (break-glass)',
    );
  });
  test('requirement', () => {
    assert.equal(requirement(host, 'root').who, 'an ops lead of service web');
    assert.equal(requirement(service, 'login').who, 'an owner or ops of service web');
    assert.equal(requirement(project, 'root').who, 'an ops lead of project shop');
  });
});

describe('who may see a request', () => {
  const facts = { requesterId: 1, right: 'login' as const, target: host };
  const v = (over: Partial<Parameters<typeof canSee>[0]>) =>
    canSee({ id: 9, isAdmin: false, isAuditor: false, roles: [], ...over }, facts);
  test('requester, approver, admin, auditor: yes; anyone else: no', () => {
    assert.equal(v({ id: 1 }), true);
    assert.equal(v({ roles: [{ scopeType: 'service', scopeId: 5, role: 'owner', opsLead: false }] }), true);
    assert.equal(v({ isAdmin: true }), true);
    assert.equal(v({ isAuditor: true }), true);
    assert.equal(v({}), false);
  });
});
