import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MyHost } from '@jmp/contract/schemas/access';
import { complete, describeHost, parseCommand, renderHosts } from './menu.js';

const h = (hostname: string, addr: string, over: Partial<MyHost> = {}): MyHost => ({
  id: 1,
  hostname,
  addresses: [addr],
  state: 'online',
  kind: 'linux',
  service: 'web',
  project: 'shop',
  root: false,
  reason: '',
  ...over,
});
const hosts = [
  h('db-01', '10.0.0.3', { service: 'db' }),
  h('web-01', '10.0.0.1'),
  h('web-02', '10.0.0.2', { state: 'offline', root: true }),
];

test('renders numbered rows with address, environment, agent, service and root', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const agent = (lastSeenAt: string | null) => ({
    enrolled: true,
    lastSeenAt,
    version: '0.1.0',
    failMode: 'deny' as const,
  });
  const shown = [
    { ...hosts[0]!, agent: agent('2026-01-01T11:59:58Z') },
    hosts[1]!,
    { ...hosts[2]!, agent: agent('2026-01-01T10:00:00Z') },
  ];
  const out = renderHosts(shown, shown, now);
  assert.match(out, /#\s+host\s+address\s+environment\s+agent\s+service/);
  assert.match(out, /1\s+db-01\s+10\.0\.0\.3\s+production\s+ok\s+shop\/db/);
  assert.match(out, /2\s+web-01\s+10\.0\.0\.1\s+production\s+unknown\s+shop\/web/);
  assert.match(out, /3\s+web-02\s+10\.0\.0\.2\s+non-production\s+silent\s+shop\/web\s+\(root\)/);
  assert.doesNotMatch(out, /online|offline/, 'the model words are not shown');
  assert.ok(out.endsWith('\r\n'));
  assert.match(renderHosts([]), /no hosts yet/);
});

test('filtered rows keep their numbers', () => {
  assert.match(renderHosts(hosts, [hosts[2]!]), /^\s+#.*\r\n\s+3\s+web-02/);
});

test('commands', () => {
  assert.deepEqual(parseCommand('2', hosts), { kind: 'connect', host: hosts[1] });
  assert.deepEqual(parseCommand('web-02', hosts), { kind: 'connect', host: hosts[2] });
  assert.deepEqual(parseCommand('ssh alice@WEB-01', hosts), { kind: 'connect', host: hosts[1] });
  assert.deepEqual(parseCommand('ssh web-01 uptime -p', hosts), {
    kind: 'connect',
    host: hosts[1],
    command: 'uptime -p',
  });
  assert.equal(parseCommand('9', hosts).kind, 'error');
  assert.deepEqual(parseCommand('ssh nope', hosts), { kind: 'error', message: 'no host named nope among yours' });
  const f = parseCommand('web', hosts);
  assert.equal(f.kind, 'filter');
  assert.deepEqual(
    f.kind === 'filter' && f.matches.map((x) => x.hostname),
    ['db-01', 'web-01', 'web-02'].filter((n) => n !== 'db-01'),
  );
  assert.deepEqual(parseCommand('10.0.0.3', hosts).kind, 'filter');
  assert.deepEqual(parseCommand('', hosts), { kind: 'list' });
  assert.deepEqual(parseCommand(' exit ', hosts), { kind: 'exit' });
  assert.deepEqual(parseCommand('help', hosts), { kind: 'help' });
});

test('tab completion', () => {
  assert.deepEqual(complete('we', hosts), { line: 'web-0', candidates: ['web-01', 'web-02'] });
  assert.deepEqual(complete('web-01', hosts), { line: 'web-01 ', candidates: [] });
  assert.deepEqual(complete('ssh d', hosts), { line: 'ssh db-01 ', candidates: [] });
  assert.deepEqual(complete('ssh root@w', hosts), { line: 'ssh root@web-0', candidates: ['web-01', 'web-02'] });
  assert.deepEqual(complete('x', hosts), { line: 'x', candidates: [] });
});

test('info <host>: environment, the agent apart from it, and the access with its origin', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const host = {
    ...hosts[2]!,
    reason: 'ops of shop/web',
    agent: { enrolled: true, lastSeenAt: '2026-01-01T11:59:56Z', version: '0.1.0', failMode: 'deny' as const },
  };
  const cmd = parseCommand('info web-02', [hosts[0]!, hosts[1]!, host]);
  assert.equal(cmd.kind, 'info');
  const out = describeHost(host, now);
  assert.match(out, /environment\s+non-production/);
  assert.match(out, /agent\s+0\.1\.0 seen 4 s ago, fail deny/);
  assert.match(out, /access\s+login \+ root \(ops of shop\/web\)/);
  assert.deepEqual(parseCommand('info nope', hosts), { kind: 'error', message: 'no host named nope among yours' });
  assert.deepEqual(parseCommand('info', hosts), { kind: 'error', message: 'usage: info <host>' });
  assert.match(describeHost({ ...host, agent: { ...host.agent, enrolled: false } }, now), /agent\s+not enrolled/);
});
