import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { asciiJson, liteToken } from './token.js';

const require = createRequire(import.meta.url);
const Crypt = require('guacamole-lite/lib/Crypt.js') as new (c: string, k: Buffer) => { decrypt(t: string): unknown };

test("guacamole-lite's own (ASCII) decryption reads jmp-rdp's tokens without losing a character", () => {
  const key = randomBytes(32);
  const settings = { username: 'Jürgen', password: 'pä$$€😀', domain: 'ÆØÅ' };
  const back = new Crypt('AES-256-CBC', key).decrypt(liteToken(key, { connection: { type: 'rdp', settings } }));
  assert.deepEqual(back, { connection: { type: 'rdp', settings } });
});

test('without the escapes its decryption corrupts non-ASCII text (the fault this avoids)', () => {
  assert.match(asciiJson({ a: 'ü€' }), /^[\x20-\x7e]+$/);
  const ascii = Buffer.from(JSON.stringify({ a: 'ü' }), 'utf8').toString('ascii');
  assert.notEqual(JSON.parse(ascii).a, 'ü');
});
