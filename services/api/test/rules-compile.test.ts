// jmp-api checks and tests a rule with the proxies' own compiler
// (@jmp/guard compileRules): what it accepts every proxy compiles, what it
// refuses no proxy would have compiled, and /v1/rules/test matches as they do.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { compileRules, type GuardRule } from '@jmp/guard/rules';
import { startApi, addProject, addService, addHost, type TestApi } from './harness.js';

let api: TestApi, admin: string, ssh: string, hostname: string;

before(async () => {
  api = await startApi();
  admin = `Bearer ${api.serviceToken('admin')}`;
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  const project = await addProject(api.db);
  hostname = (await addHost(api.db, { service_id: (await addService(api.db, project.id)).id })).hostname;
});
after(() => api?.close());

const PATTERNS = [
  '\\brm\\s+-rf',
  '(?i)^shutdown',
  'a(',
  'rm(?= -rf)',
  '(?<=x)y',
  '(a)\\1',
  '\\k<n>',
  '\\p{Greek}+',
  '\\u{1F600}',
  '\\u{110000}',
  '[\\u{10}-\\u{5}]',
  '(?<n>a)b',
  '\\x{41}',
  '^$',
  '[[:alpha:]]',
  'x{1001}',
  '\\C',
  '\\Q.*\\E',
];
const LINES = ['rm -rf /', 'SHUTDOWN now', 'xy', 'aa', 'ab', 'Ωμέγα', '😀', 'A', '', '.*'];

function proxyCompiles(pattern: string): ReturnType<typeof compileRules> | null {
  const rule: GuardRule = { id: 1, name: 'r', pattern, action: 'block', severity: 'high', list: 'deny' };
  try {
    return compileRules([rule]);
  } catch {
    return null;
  }
}

test('jmp-api accepts exactly the patterns a proxy compiles, and matches as a proxy does', async () => {
  for (const pattern of PATTERNS) {
    const proxy = proxyCompiles(pattern);
    for (const line of LINES) {
      const r = await api.call('POST', '/v1/rules/test', { auth: admin, body: { pattern, line } });
      if (!proxy) {
        assert.equal(r.status, 400, `${pattern}: jmp-api must refuse what a proxy cannot compile`);
        break;
      }
      assert.equal(r.status, 200, `${pattern}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.match, proxy.match(line).verdict !== 'pass', `${pattern} on ${JSON.stringify(line)}`);
    }
  }
});

test('every rule jmp-api saved compiles in a proxy, as one set', async () => {
  for (const [i, pattern] of PATTERNS.entries()) {
    const r = await api.call('POST', '/v1/rules', { auth: admin, body: { name: `rule ${i}`, pattern } });
    assert.equal(r.status, proxyCompiles(pattern) ? 201 : 400, pattern);
  }
  const served = await api.call('GET', `/v1/guard/rules?host=${hostname}`, { auth: ssh });
  assert.equal(served.status, 200);
  assert.ok(served.body.rules.length > 0);
  compileRules(served.body.rules, { mode: served.body.mode });
});
