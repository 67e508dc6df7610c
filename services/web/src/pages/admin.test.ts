// The admin pages' pure pieces: enrolment token states, service names and
// choices, address lists, department members, the role and console-rights
// choices, datetime-local values, and a device profile's JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenState } from './admin-enrolment.js';
import { serviceNames, serviceOptions, splitList } from './org-names.js';
import { memberLine, membersOf, roleChoice, roleOfChoice } from './org-edit.js';
import { accessChoice, accessOf } from './admin-users.js';
import { controlValue, localDateTime } from './forms.js';
import { parseSpec, specSummary } from './device-profile.js';
import { RoleUpdate, UserUpdate } from '@jmp/contract/schemas/admin';
import { DeviceProfileSpec } from '@jmp/contract/schemas/devices';

test('an enrolment token says why it no longer enrols', () => {
  const t = { active: false, revokedAt: null, uses: 0, maxUses: 1 };
  assert.equal(tokenState({ ...t, active: true }).text, 'active');
  assert.equal(tokenState({ ...t, revokedAt: '2026-01-01T00:00:00Z', uses: 1 }).text, 'revoked');
  assert.equal(tokenState({ ...t, uses: 1 }).text, 'used up');
  assert.equal(tokenState(t).text, 'expired');
});

test('services read as project/service, sorted after the first choice', () => {
  const names = serviceNames(
    [{ id: 1, name: 'shop', description: '', createdAt: '' }],
    [
      { id: 5, projectId: 1, name: 'web', description: '', hopTickets: true, createdAt: '' },
      { id: 6, projectId: 9, name: 'db', description: '', hopTickets: true, createdAt: '' },
      { id: 7, projectId: 1, name: 'api', description: '', hopTickets: true, createdAt: '' },
    ],
  );
  assert.equal(names.get(5), 'shop/web');
  assert.equal(names.get(6), '?/db');
  assert.deepEqual(serviceOptions(names, ['', '— none —']), [
    ['', '— none —'],
    ['6', '?/db'],
    ['7', 'shop/api'],
    ['5', 'shop/web'],
  ]);
});

test('addresses are split on commas and spaces', () => {
  assert.deepEqual(splitList(' 10.0.0.1, 10.0.0.2  fd00::1,,'), ['10.0.0.1', '10.0.0.2', 'fd00::1']);
  assert.deepEqual(splitList(undefined), []);
});

test("a department's members are the people whose department it is", () => {
  const users = [
    { username: 'zoe', departmentId: 2 },
    { username: 'ann', departmentId: 2 },
    { username: 'bob', departmentId: 3 },
    { username: 'cy', departmentId: null },
  ];
  assert.deepEqual(membersOf(2, users), ['ann', 'zoe']);
  assert.deepEqual(membersOf(4, users), []);
  assert.equal(memberLine([], 0), '—');
  assert.equal(memberLine(['ann', 'zoe'], 2), 'ann, zoe');
  assert.equal(memberLine(['ann', 'zoe'], 502), 'ann, zoe and 500 more');
});

test('the role choices map to role and opsLead, and the API accepts each', () => {
  for (const choice of ['ops', 'owner', 'lead']) {
    const body = roleOfChoice(choice);
    assert.equal(RoleUpdate.safeParse(body).success, true, choice);
    assert.equal(roleChoice(body), choice);
  }
  assert.equal(roleChoice({ role: 'owner', opsLead: true }), 'lead');
});

test('console rights map to isAdmin and isAuditor, and the API accepts each', () => {
  for (const choice of ['none', 'auditor', 'admin', 'admin+auditor']) {
    const body = accessOf(choice);
    assert.equal(UserUpdate.safeParse(body).success, true, choice);
    assert.equal(accessChoice(body), choice);
  }
});

test('a datetime-local value is the local minute of the ISO time', () => {
  assert.equal(localDateTime(null), '');
  assert.equal(localDateTime('not a time'), '');
  const iso = '2026-03-04T05:06:59.000Z';
  const back = new Date(localDateTime(iso));
  assert.equal(back.getTime(), Date.parse('2026-03-04T05:06:00.000Z'));
});

test("a profile's JSON is parsed or refused with a sentence; empty takes the defaults", () => {
  assert.deepEqual(parseSpec('  '), { spec: {} });
  assert.deepEqual(parseSpec('{"mode":"allow-list"}'), { spec: { mode: 'allow-list' } });
  const bad = parseSpec('{"mode":');
  assert.ok('error' in bad && bad.error.startsWith('Profile (JSON): '));
  const spec = DeviceProfileSpec.parse({ rules: [{ name: 'no reload', pattern: '^reload' }] });
  assert.equal(specSummary(spec), 'deny-list, 1 rule, 2 login steps');
});

test('patterns, passwords and secrets keep their spaces; other text is trimmed', () => {
  const el = (value: string) => ({ value }) as HTMLInputElement;
  assert.equal(controlValue({ name: 'p', label: 'P', raw: true }, el('^show ')), '^show ');
  assert.equal(controlValue({ name: 's', label: 'S', type: 'password' }, el(' a b ')), ' a b ');
  assert.equal(controlValue({ name: 's', label: 'S', type: 'password', optional: true }, el('  ')), undefined);
  assert.equal(controlValue({ name: 'n', label: 'N' }, el(' x ')), 'x');
});
