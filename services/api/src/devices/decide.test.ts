import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecideGrant, DecideUser } from '../access/decide.js';
import { decideDevice, type DecideDevice } from './decide.js';

const alice: DecideUser = { id: 1, username: 'alice', status: 'active', departmentIds: [10, 1] };
const sw: DecideDevice = { id: 5, name: 'sw-01', state: 'online', serviceId: 3, projectId: 2, serviceName: 'net' };
const now = new Date('2026-01-01T00:00:00Z');
const grant = (g: Partial<DecideGrant>): DecideGrant => ({
  id: 9,
  subjectType: 'user',
  subjectId: 1,
  scopeType: 'service',
  scopeId: 3,
  right: 'device',
  validFrom: new Date('2025-01-01T00:00:00Z'),
  validUntil: null,
  ...g,
});

test('ops of the service or project open a device by default; owners only an offline one', () => {
  for (const scopeType of ['service', 'project'] as const) {
    const scopeId = scopeType === 'service' ? 3 : 2;
    const ops = decideDevice(alice, sw, [{ scopeType, scopeId, role: 'ops' }], [], now);
    assert.equal(ops.allow, true);
    assert.match(ops.reason, /ops of .*device on online device sw-01 by default/);
    const owner = decideDevice(alice, sw, [{ scopeType, scopeId, role: 'owner' }], [], now);
    assert.equal(owner.allow, false);
    assert.match(owner.reason, /gives device access only on an offline device/);
    assert.equal(
      decideDevice(alice, { ...sw, state: 'offline' }, [{ scopeType, scopeId, role: 'owner' }], [], now).allow,
      true,
    );
  }
  assert.equal(decideDevice(alice, sw, [{ scopeType: 'service', scopeId: 99, role: 'ops' }], [], now).allow, false);
});

test('a device grant on the service or project opens it; login/root grants and other scopes do not', () => {
  assert.equal(decideDevice(alice, sw, [], [grant({})], now).via.kind, 'grant');
  assert.equal(decideDevice(alice, sw, [], [grant({ scopeType: 'project', scopeId: 2 })], now).allow, true);
  assert.equal(decideDevice(alice, sw, [], [grant({ subjectType: 'department', subjectId: 1 })], now).allow, true);
  assert.equal(decideDevice(alice, sw, [], [grant({ right: 'root' })], now).allow, false);
  assert.equal(decideDevice(alice, sw, [], [grant({ right: 'login' })], now).allow, false);
  assert.equal(decideDevice(alice, sw, [], [grant({ scopeType: 'host', scopeId: 5 })], now).allow, false);
  assert.equal(decideDevice(alice, sw, [], [grant({ scopeId: 4 })], now).allow, false);
  assert.equal(
    decideDevice(alice, sw, [], [grant({ validUntil: new Date('2025-06-01T00:00:00Z') })], now).allow,
    false,
  );
  assert.equal(decideDevice(alice, sw, [], [grant({ revokedAt: now })], now).allow, false);
  const none = decideDevice(alice, sw, [], [], now);
  assert.equal(none.allow, false);
  assert.match(none.reason, /no device right for alice on sw-01; request access/);
});

test('a disabled person is refused whatever the roles', () => {
  const d = decideDevice(
    { ...alice, status: 'disabled' },
    sw,
    [{ scopeType: 'service', scopeId: 3, role: 'ops' }],
    [],
    now,
  );
  assert.equal(d.allow, false);
  assert.match(d.reason, /disabled/);
});
