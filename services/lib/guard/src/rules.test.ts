import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRules, RuleCompileError, type GuardRule } from './rules.js';
import { DEMO_RULES } from './demo-rules.js';

const demo = compileRules(DEMO_RULES);
const ids = (line: string) => demo.match(line).rules.map((r) => r.id);

test('recursive delete of / is blocked in its usual disguises', () => {
  for (const line of [
    'rm -rf /',
    '\\rm -rf /',
    'ls; rm -rf /',
    'rm -r -f /',
    '/bin/rm -rf /',
    'sudo rm -rf /',
    'rm -fr /*',
    'rm --recursive --force /',
    'rm -rf --no-preserve-root /',
    'cd /tmp && rm -Rf / ',
    'rm -rf "/"',
    'rm / -rf',
    'echo x | xargs rm -rf /',
    'true;rm -rf /',
  ]) {
    const m = demo.match(line);
    assert.equal(m.verdict, 'block', line);
    assert.equal(m.blockedBy?.id, 'demo-rm-root', line);
  }
});

test('ordinary deletes are not taken for a delete of /', () => {
  for (const line of [
    'rm -rf /tmp/x',
    'rm -rf ./build',
    'rm /etc/motd',
    'ls -la /',
    'grep -r foo /',
    'firm -rf /',
    'rm -f /tmp/a /tmp/b',
  ]) {
    assert.ok(!ids(line).includes('demo-rm-root'), line);
  }
  assert.equal(demo.match('rm -rf /tmp/x').verdict, 'alert');
  assert.equal(demo.match('ls -la').verdict, 'pass');
  assert.deepEqual(demo.match('ls -la').rules, []);
});

test('several rules match: block wins and every match is reported', () => {
  const m = demo.match('rm -rf / ; reboot');
  assert.equal(m.verdict, 'block');
  assert.deepEqual(new Set(m.rules.map((r) => r.id)), new Set(['demo-rm-root', 'demo-rm-recursive', 'demo-power']));
  assert.equal(m.blockedBy?.id, 'demo-rm-root');
});

test('the most severe block rule decides', () => {
  const rules: GuardRule[] = [
    { id: 1, name: 'low block', pattern: 'foo', action: 'block', severity: 'low', list: 'deny' },
    { id: 2, name: 'critical block', pattern: 'foo bar', action: 'block', severity: 'critical', list: 'deny' },
    { id: 3, name: 'alert', pattern: 'bar', action: 'alert', severity: 'high', list: 'deny' },
  ];
  const m = compileRules(rules).match('foo bar');
  assert.equal(m.blockedBy?.id, 2);
  assert.equal(m.rules.length, 3);
});

test('other demo rules', () => {
  assert.equal(demo.match('mkfs.ext4 /dev/sda1').verdict, 'block');
  assert.equal(demo.match('dd if=/dev/zero of=/dev/sda bs=1M').verdict, 'block');
  assert.equal(demo.match(':(){ :|:& };:').verdict, 'block');
  assert.equal(demo.match('sudo shutdown -h now').verdict, 'alert');
  assert.equal(demo.match('echo x > /etc/passwd').verdict, 'alert');
  assert.equal(demo.match('cat /etc/passwd').verdict, 'pass');
});

test('a compile error names the rule', () => {
  const bad: GuardRule[] = [
    { id: 1, name: 'ok', pattern: 'ls', action: 'alert', severity: 'low', list: 'deny' },
    { id: 7, name: 'lookbehind', pattern: '(?<=a)b', action: 'block', severity: 'high', list: 'deny' },
  ];
  assert.throws(
    () => compileRules(bad),
    (e: unknown) => {
      assert.ok(e instanceof RuleCompileError);
      assert.match(e.message, /rule "lookbehind" \(id 7\)/);
      assert.equal(e.code, 'bad_request');
      return true;
    },
  );
  assert.throws(
    () =>
      compileRules([{ id: 2, name: 'open paren', pattern: 'a(b', action: 'block', severity: 'high', list: 'deny' }]),
    /open paren.*missing \)/,
  );
});

test('RE2 syntax: inline flags, no catastrophic backtracking', () => {
  const r = compileRules([
    { id: 1, name: 'ci', pattern: '(?i)^DROP\\s+TABLE', action: 'block', severity: 'high', list: 'deny' },
    { id: 2, name: 'evil', pattern: '(a+)+$', action: 'alert', severity: 'low', list: 'deny' },
  ]);
  assert.equal(r.match('drop table users').verdict, 'block');
  const t0 = performance.now();
  r.match('a'.repeat(50_000) + '!');
  assert.ok(performance.now() - t0 < 200);
});

test('allow-list mode: only lines matching an allow rule pass; deny rules still act', () => {
  const rules: GuardRule[] = [
    { id: 'a1', name: 'ls', pattern: '^ls(\\s|$)', action: 'alert', severity: 'low', list: 'allow' },
    {
      id: 'a2',
      name: 'systemctl status',
      pattern: '^systemctl status\\b',
      action: 'alert',
      severity: 'low',
      list: 'allow',
    },
    { id: 'd1', name: 'no etc', pattern: '/etc/shadow', action: 'block', severity: 'high', list: 'deny' },
  ];
  const r = compileRules(rules, { mode: 'allow-list' });
  assert.equal(r.match('ls -la').verdict, 'pass');
  assert.equal(r.match('ls -la').rules[0]?.id, 'a1');
  const no = r.match('rm x');
  assert.equal(no.verdict, 'block');
  assert.equal(no.notAllowed, true);
  assert.equal(no.blockedBy?.id, 'allow-list');
  assert.equal(r.match('ls /etc/shadow').blockedBy?.id, 'd1');
  assert.equal(r.match('   ').verdict, 'pass');
  // In deny-list mode allow rules are ignored.
  assert.equal(compileRules(rules).match('rm x').verdict, 'pass');
});
