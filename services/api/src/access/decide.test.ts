import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type DecideGrant, type DecideHost, type DecideRole, type DecideUser } from './decide.js';

const alice: DecideUser = { id: 1, username: 'alice', status: 'active', departmentIds: [20, 10] };
const host = (state: 'online' | 'offline'): DecideHost => ({
  id: 100,
  hostname: 'web-01',
  state,
  serviceId: 5,
  serviceName: 'web',
  projectId: 7,
  projectName: 'shop',
});
const now = new Date('2026-11-24T12:00:00.000Z');

describe('default rights table (every cell)', () => {
  const table: Array<[DecideRole, 'online' | 'offline', login: boolean, root: boolean]> = [
    [{ scopeType: 'service', scopeId: 5, role: 'owner' }, 'online', true, false],
    [{ scopeType: 'service', scopeId: 5, role: 'owner' }, 'offline', true, true],
    [{ scopeType: 'project', scopeId: 7, role: 'owner' }, 'online', true, false],
    [{ scopeType: 'project', scopeId: 7, role: 'owner' }, 'offline', true, true],
    [{ scopeType: 'service', scopeId: 5, role: 'ops' }, 'online', true, true],
    [{ scopeType: 'service', scopeId: 5, role: 'ops' }, 'offline', true, true],
    [{ scopeType: 'project', scopeId: 7, role: 'ops' }, 'online', true, true],
    [{ scopeType: 'project', scopeId: 7, role: 'ops' }, 'offline', true, true],
  ];
  for (const [role, state, login, root] of table) {
    test(`${role.scopeType} ${role.role} on ${state} host: login=${login} root=${root}`, () => {
      const l = decide(alice, host(state), 'login', [role], [], now);
      const r = decide(alice, host(state), 'root', [role], [], now);
      assert.equal(l.allow, login);
      assert.equal(r.allow, root);
      if (login) assert.match(l.reason, new RegExp(`alice is ${role.role} of ${role.scopeType}`));
      if (!root) assert.match(r.reason, /no root right for alice on web-01/);
    });
  }
  test('no role, no grant: nothing', () => {
    for (const state of ['online', 'offline'] as const) {
      for (const right of ['login', 'root'] as const) {
        const d = decide(alice, host(state), right, [], [], now);
        assert.equal(d.allow, false);
        assert.equal(d.via.kind, 'none');
      }
    }
  });
  test('a role on another service or project gives nothing', () => {
    const d = decide(
      alice,
      host('online'),
      'login',
      [
        { scopeType: 'service', scopeId: 6, role: 'ops' },
        { scopeType: 'project', scopeId: 8, role: 'owner' },
      ],
      [],
      now,
    );
    assert.equal(d.allow, false);
  });
  test('the narrowest role is named', () => {
    const d = decide(
      alice,
      host('online'),
      'login',
      [
        { scopeType: 'project', scopeId: 7, role: 'ops' },
        { scopeType: 'service', scopeId: 5, role: 'owner' },
      ],
      [],
      now,
    );
    assert.match(d.reason, /owner of service web/);
  });
  test('a host with no service gets no default rights', () => {
    const h: DecideHost = { ...host('offline'), serviceId: null, projectId: null };
    assert.equal(decide(alice, h, 'login', [{ scopeType: 'service', scopeId: 5, role: 'ops' }], [], now).allow, false);
  });
});

describe('grants', () => {
  const base: DecideGrant = {
    id: 9,
    subjectType: 'user',
    subjectId: 1,
    scopeType: 'host',
    scopeId: 100,
    right: 'login',
    validFrom: new Date('2026-11-01T00:00:00Z'),
    validUntil: null,
  };
  const shapes: Array<[string, Partial<DecideGrant>, boolean]> = [
    ['person × host', {}, true],
    ['person × service', { scopeType: 'service', scopeId: 5 }, true],
    ['person × project', { scopeType: 'project', scopeId: 7 }, true],
    ['department × host', { subjectType: 'department', subjectId: 20 }, true],
    ['department × service', { subjectType: 'department', subjectId: 20, scopeType: 'service', scopeId: 5 }, true],
    ['department × project', { subjectType: 'department', subjectId: 20, scopeType: 'project', scopeId: 7 }, true],
    ['parent department × host', { subjectType: 'department', subjectId: 10 }, true],
    ['other person', { subjectId: 2 }, false],
    ['other department', { subjectType: 'department', subjectId: 30 }, false],
    ['other host', { scopeId: 101 }, false],
    ['other service', { scopeType: 'service', scopeId: 6 }, false],
    ['other project', { scopeType: 'project', scopeId: 8 }, false],
  ];
  for (const [name, over, allowed] of shapes) {
    test(`${name}: login ${allowed ? 'allowed' : 'denied'}`, () => {
      const d = decide(alice, host('online'), 'login', [], [{ ...base, ...over }], now);
      assert.equal(d.allow, allowed);
      if (allowed) {
        assert.deepEqual(d.via, { kind: 'grant', grantId: 9 });
        assert.match(d.reason, /^grant #9: login/);
      }
    });
  }
  test('login grant does not give root; root grant gives root and login', () => {
    assert.equal(decide(alice, host('online'), 'root', [], [base], now).allow, false);
    const root = { ...base, right: 'root' as const };
    assert.equal(decide(alice, host('online'), 'root', [], [root], now).allow, true);
    assert.equal(decide(alice, host('online'), 'login', [], [root], now).allow, true);
  });
  test('root grant lifts an online owner to root', () => {
    const d = decide(
      alice,
      host('online'),
      'root',
      [{ scopeType: 'service', scopeId: 5, role: 'owner' }],
      [{ ...base, right: 'root' }],
      now,
    );
    assert.equal(d.allow, true);
    assert.equal(d.via.kind, 'grant');
  });
  test('expiry to the second', () => {
    const until = new Date(now.getTime() + 1000);
    const g = { ...base, validUntil: until };
    assert.equal(decide(alice, host('online'), 'login', [], [g], new Date(until.getTime() - 1000)).allow, true);
    assert.equal(decide(alice, host('online'), 'login', [], [g], new Date(until.getTime() - 1)).allow, true);
    assert.equal(decide(alice, host('online'), 'login', [], [g], until).allow, false, 'valid_until is exclusive');
    assert.equal(decide(alice, host('online'), 'login', [], [g], new Date(until.getTime() + 1000)).allow, false);
  });
  test('not yet valid', () => {
    const g = { ...base, validFrom: new Date(now.getTime() + 1000) };
    assert.equal(decide(alice, host('online'), 'login', [], [g], now).allow, false);
    assert.equal(
      decide(alice, host('online'), 'login', [], [g], new Date(now.getTime() + 1000)).allow,
      true,
      'valid_from is inclusive',
    );
  });
  test('revoked grant is ignored', () => {
    assert.equal(
      decide(alice, host('online'), 'login', [], [{ ...base, revokedAt: new Date(now.getTime() - 1) }], now).allow,
      false,
    );
  });
  test('the grant that lasts longest is named', () => {
    const short = { ...base, id: 1, validUntil: new Date(now.getTime() + 60_000) };
    const forever = { ...base, id: 2 };
    assert.deepEqual(decide(alice, host('online'), 'login', [], [short, forever], now).via, {
      kind: 'grant',
      grantId: 2,
    });
  });
});

describe('disabled users', () => {
  test('a disabled user is denied whatever roles and grants say', () => {
    const bob: DecideUser = { ...alice, status: 'disabled' };
    const d = decide(
      bob,
      host('offline'),
      'login',
      [{ scopeType: 'project', scopeId: 7, role: 'ops' }],
      [
        {
          id: 1,
          subjectType: 'user',
          subjectId: 1,
          scopeType: 'host',
          scopeId: 100,
          right: 'root',
          validFrom: new Date(0),
          validUntil: null,
        },
      ],
      now,
    );
    assert.equal(d.allow, false);
    assert.equal(d.reason, 'user alice is disabled');
  });
});
