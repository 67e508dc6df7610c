// Every native addon jmp uses loads in the Node that runs this suite (the
// system's, and Node 24 in `make node24-test`). ssh2 and cpu-features fall
// back to JavaScript, without a word, when their binding was built for another
// Node: so this test asks each one directly.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { loadAddon } from '../src/index.js';

const require = createRequire(import.meta.url);
const where = `Node ${process.version} (NODE_MODULE_VERSION ${process.versions.modules})`;

test(`re2 loads and matches in ${where}`, () => {
  const RE2 = require('re2') as new (source: string) => { test(s: string): boolean };
  assert.equal(new RE2('a+b').test('xaab'), true);
  assert.equal(new RE2('^a+b$').test('xaab'), false);
});

test(`ssh2's crypto binding and cpu-features load in ${where}`, () => {
  const crypto = require('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean };
  assert.equal(crypto.bindingAvailable, true, 'ssh2 uses its JavaScript fallback: rebuild it for this Node');
  const cpu = require('cpu-features') as () => { arch: string };
  assert.ok(cpu().arch);
});

test(`jmp-native (Node-API) loads in ${where}`, () => {
  const addon = loadAddon() as unknown as Record<string, unknown>;
  assert.equal(typeof addon.peerCredFd, 'function');
  assert.equal(typeof addon.pamAuthenticate, 'function');
});
