// The pages' pure pieces: host search, the request form's body, date filters,
// the agent's state, the recording's start and readable durations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesHost } from './hosts.js';
import { requestBody } from './requests.js';
import { dayStart } from './sessions.js';
import { agentState, SILENT_AFTER_MS } from './admin-hosts.js';
import { recordingStart } from './replay.js';
import { duration } from './common.js';
import { controlValue, firstIssue } from './forms.js';
import { installLine } from './admin-enrolment.js';
import { verifySentence } from './admin-audit.js';
import { splitRef } from './admin-access.js';
import { UserCreate } from '@jmp/contract/schemas/admin';

const host = {
  id: 1,
  hostname: 'db-7.prod',
  addresses: ['10.1.2.3'],
  state: 'online' as const,
  kind: 'linux',
  service: 'billing',
  project: 'payments',
  root: false,
  reason: 'grant #3',
};

test('host search matches name, address, service and project, case-insensitively', () => {
  for (const q of ['', 'DB-7', '10.1.2', 'bill', 'payments', '  prod ']) assert.equal(matchesHost(host, q), true, q);
  assert.equal(matchesHost(host, 'web'), false);
});

test('the request form becomes the API body, or a sentence', () => {
  const base = { scopeType: 'host', target: 'H2', right: 'root', durationSeconds: '3600', reason: ' INC-1 ' };
  assert.deepEqual(requestBody(base), {
    scope: { type: 'host', hostname: 'h2' },
    right: 'root',
    durationSeconds: 3600,
    reason: 'INC-1',
  });
  assert.deepEqual(requestBody({ ...base, target: '12' }), {
    scope: { type: 'host', id: 12 },
    right: 'root',
    durationSeconds: 3600,
    reason: 'INC-1',
  });
  assert.deepEqual(requestBody({ ...base, scopeType: 'service', target: '4' }), {
    scope: { type: 'service', id: 4 },
    right: 'root',
    durationSeconds: 3600,
    reason: 'INC-1',
  });
  assert.equal(
    requestBody({ ...base, scopeType: 'project', target: 'payments' }),
    'The project id must be a positive number.',
  );
  assert.equal(requestBody({ ...base, target: ' ' }), 'Enter the host name.');
  assert.equal(requestBody({ ...base, target: 'bad_name!' }), 'The host name is not a valid DNS name.');
  assert.equal(requestBody({ ...base, reason: '  ' }), 'Say why you need the access.');
  assert.equal(requestBody({ ...base, right: 'admin' }), 'Choose login, root or a database right.');
  assert.deepEqual(requestBody({ ...base, right: 'mariadb_write' }), {
    ...(requestBody(base) as object),
    right: 'mariadb_write',
  });
});

test('date filters are local days, the end day included', () => {
  assert.equal(dayStart('2025-03-09'), new Date(2025, 2, 9).toISOString());
  assert.equal(dayStart('2025-03-09', 1), new Date(2025, 2, 10).toISOString());
  assert.equal(dayStart(''), undefined);
  assert.equal(dayStart('09/03/2025'), undefined);
});

test('agent state: not enrolled, degraded, silent, ok', () => {
  const now = Date.parse('2025-01-01T12:00:00Z');
  const seen = (ms: number) => new Date(now - ms).toISOString();
  assert.equal(agentState({ enrolled: false, lastSeenAt: null, agentStatus: {} }, now).text, 'not enrolled');
  assert.equal(
    agentState({ enrolled: true, lastSeenAt: seen(1000), agentStatus: { degraded: true } }, now).text,
    'degraded',
  );
  assert.equal(
    agentState({ enrolled: true, lastSeenAt: seen(SILENT_AFTER_MS + 1), agentStatus: {} }, now).text,
    'silent',
  );
  assert.equal(agentState({ enrolled: true, lastSeenAt: null, agentStatus: {} }, now).text, 'silent');
  assert.equal(
    agentState({ enrolled: true, lastSeenAt: seen(1000), agentStatus: { degraded: false } }, now).text,
    'ok',
  );
});

test('the recording start comes from an asciicast v2 header only', () => {
  assert.equal(
    recordingStart('{"version":2,"width":80,"height":24,"timestamp":1700000000}\n[0.1,"o","x"]\n'),
    1700000000,
  );
  assert.equal(recordingStart('{"version":2,"width":80,"height":24,"timestamp":1700000000}'), 1700000000);
  assert.equal(recordingStart('{"version":1}\n'), null);
  assert.equal(recordingStart('garbage'), null);
});

test('durations read as the largest whole unit', () => {
  assert.deepEqual(
    [duration(86400 * 3), duration(7200), duration(90 * 60), duration(45)],
    ['3 d', '2 h', '90 min', '45 s'],
  );
});

test('forms: values become the body, a refusal names the field by its label', () => {
  const el = (value: string) => ({ value, checked: false }) as unknown as HTMLInputElement;
  assert.equal(controlValue({ name: 'n', label: 'N', numeric: true }, el('42')), 42);
  assert.equal(controlValue({ name: 'n', label: 'N', optional: true }, el('  ')), undefined);
  assert.equal(controlValue({ name: 'n', label: 'N' }, el(' x ')), 'x');
  const r = UserCreate.safeParse({ username: 'Bad Name' });
  assert.equal(r.success, false);
  if (!r.success) assert.match(firstIssue(r.error, { username: 'Username' }), /^Username: /);
  assert.deepEqual(splitRef('service:3', 'scopeType', 'scopeId'), { scopeType: 'service', scopeId: 3 });
  assert.deepEqual(splitRef('', 'scopeType', 'scopeId'), {});
});

test('the install line and the audit chain sentence', () => {
  assert.equal(
    installLine('https://jmp.example', 'jmpe_abc'),
    'apt install ./jmp-agent_*.deb && jmp-agent enroll --api https://jmp.example --token jmpe_abc',
  );
  assert.equal(
    verifySentence({ ok: true, brokenAt: null, checked: 41 }),
    'Chain verified up to entry 41: no entry was changed or removed.',
  );
  assert.match(verifySentence({ ok: false, brokenAt: 7, checked: 6 }), /^The chain breaks at entry 7/);
});
