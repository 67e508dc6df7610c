import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRights } from './rights.js';

test('each right says where it comes from', () => {
  const names = new Map([
    ['service:3', 'shop/web'],
    ['project:1', 'shop'],
    ['host:9', 'db-9'],
  ]);
  const out = describeRights(
    [
      { scope_type: 'service', scope_id: 3, role: 'ops', ops_lead: true },
      { scope_type: 'project', scope_id: 1, role: 'owner', ops_lead: false },
    ],
    [
      {
        id: 4,
        subject_type: 'user',
        subject_id: 1,
        scope_type: 'host',
        scope_id: 9,
        right: 'root',
        valid_until: '2030-01-01T00:00:00Z',
        request_id: null,
      },
      {
        id: 5,
        subject_type: 'department',
        subject_id: 2,
        scope_type: 'host',
        scope_id: 7,
        right: 'login',
        valid_until: null,
        request_id: 12,
      },
    ],
    names,
  );
  assert.deepEqual(
    out.map((r) => [r.scope.name, r.right, r.origin, r.kind]),
    [
      ['shop/web', 'login + root', 'ops lead of shop/web', 'role'],
      ['shop', 'login; root on non-production hosts', 'owner of shop', 'role'],
      ['db-9', 'root', 'grant #4 until 2030-01-01T00:00:00.000Z', 'grant'],
      ['host #7', 'login', 'request #12 to your department', 'request'],
    ],
  );
  assert.equal(out[3]!.requestId, 12);
});
