// The config file: defaults, derived paths, comments, errors naming the field.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AgentConfigError, DEFAULT_GUARDED_FILES, configPathFrom, parseConfig } from './config.js';

test('an empty file means all defaults; file paths derive from stateDir', () => {
  const c = parseConfig('');
  assert.equal(c.socket.path, '/run/jmp/agent.sock');
  assert.equal(c.files.passwd, '/var/lib/jmp/passwd');
  assert.equal(c.api.decideTimeoutMs, 1500);
  assert.equal(c.decide.noSnapshot, 'deny');
  assert.deepEqual(c.guard.files, DEFAULT_GUARDED_FILES);
  const d = parseConfig('# lab host\n{"stateDir": "/srv/h1/var-lib-jmp", "files": {"passwd": "/srv/h1/passwd"}}');
  assert.equal(d.files.group, '/srv/h1/var-lib-jmp/group');
  assert.equal(d.files.passwd, '/srv/h1/passwd');
});

test('the example config parses and equals the defaults', () => {
  const text = readFileSync(fileURLToPath(new URL('../jmp-agent.conf.example', import.meta.url)), 'utf8');
  const { configPath: _a, ...example } = parseConfig(text);
  const { configPath: _b, ...defaults } = parseConfig('');
  assert.deepEqual(example, defaults);
});

test('errors name the field', () => {
  assert.throws(
    () => parseConfig('{"socket": {"path": "relative.sock"}}'),
    (e: unknown) => e instanceof AgentConfigError && /socket\.path: must be an absolute path/.test(e.message),
  );
  assert.throws(() => parseConfig('{"api": {"fallbackAddresses": ["not-an-ip"]}}'), /api\.fallbackAddresses\.0/);
  assert.throws(
    () => parseConfig('{"guard": {"files": [{"path": "/etc/x", "lines": "("}]}}'),
    /not a regular expression/,
  );
  assert.throws(() => parseConfig('{'), /not valid JSON/);
});

test('--config wins over JMP_AGENT_CONFIG, which wins over the default', () => {
  assert.equal(configPathFrom('/a', { JMP_AGENT_CONFIG: '/b' }), '/a');
  assert.equal(configPathFrom(undefined, { JMP_AGENT_CONFIG: '/b' }), '/b');
  assert.equal(configPathFrom(undefined, {}), '/etc/jmp/agent.conf');
});
