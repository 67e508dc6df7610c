// pam.authenticate against stacks of Linux-PAM's own modules, from a private confdir.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadAddon, pam } from '../src/index.js';

const SECURITY = '/usr/lib/x86_64-linux-gnu/security';

describe('pam.authenticate with pam_permit / pam_deny', () => {
  let confdir: string;
  const service = (name: string, lines: string[]): string => {
    writeFileSync(join(confdir, name), lines.join('\n') + '\n');
    return name;
  };

  before(() => {
    loadAddon();
    confdir = mkdtempSync(join(tmpdir(), 'jmp-native-pam-'));
  });
  after(() => rmSync(confdir, { recursive: true, force: true }));

  test('pam_permit: success after authenticate and account', async () => {
    service('permit', [`auth required ${SECURITY}/pam_permit.so`, `account required ${SECURITY}/pam_permit.so`]);
    const r = await pam.authenticate({
      service: 'permit',
      user: 'alice',
      confdir,
      rhost: '10.0.0.1',
      tty: 'ssh',
      ruser: 'bob',
    });
    assert.deepEqual(r, {
      result: 'PAM_SUCCESS',
      code: 0,
      step: 'account',
      messages: [],
      messagesDropped: 0,
      answersUsed: 0,
    });
  });

  test('pam_deny in auth: PAM_AUTH_ERR at authenticate', async () => {
    service('deny', [`auth required ${SECURITY}/pam_deny.so`, `account required ${SECURITY}/pam_permit.so`]);
    const r = await pam.authenticate({ service: 'deny', user: 'alice', confdir });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.equal(r.code, 7);
    assert.equal(r.step, 'authenticate');
  });

  test('pam_deny in account: fails at account', async () => {
    service('deny-account', [`auth required ${SECURITY}/pam_permit.so`, `account required ${SECURITY}/pam_deny.so`]);
    const r = await pam.authenticate({ service: 'deny-account', user: 'alice', confdir });
    assert.equal(r.result, 'PAM_AUTH_ERR'); // pam_deny's account hook answers PAM_AUTH_ERR
    assert.equal(r.step, 'account');
  });

  test('a missing module fails the stack', async () => {
    service('broken', [
      `auth required ${SECURITY}/pam_does_not_exist.so`,
      `account required ${SECURITY}/pam_permit.so`,
    ]);
    const r = await pam.authenticate({ service: 'broken', user: 'alice', confdir });
    assert.notEqual(r.result, 'PAM_SUCCESS');
    assert.equal(r.step, 'authenticate');
  });

  test('a service file that does not exist is not a success', async () => {
    const r = await pam.authenticate({ service: 'no-such-service', user: 'alice', confdir });
    assert.notEqual(r.result, 'PAM_SUCCESS');
  });

  test('the conversation: answers in order, every message recorded', async () => {
    // pam_echo sends its text as PAM_TEXT_INFO; pam_exec expose_authtok reads a password prompt.
    const check = join(confdir, 'check-authtok.sh');
    writeFileSync(check, '#!/bin/sh\nread -r t\ntest "$t" = s3cret\n', { mode: 0o755 });
    service('conv', [
      `auth optional ${SECURITY}/pam_echo.so hello %u from %H`,
      `auth required ${SECURITY}/pam_exec.so expose_authtok quiet ${check}`,
      `account required ${SECURITY}/pam_permit.so`,
    ]);
    const ok = await pam.authenticate({
      service: 'conv',
      user: 'alice',
      confdir,
      rhost: 'jmp-1',
      answers: ['s3cret', 'unused'],
    });
    assert.equal(ok.result, 'PAM_SUCCESS', JSON.stringify(ok));
    assert.equal(ok.answersUsed, 1);
    assert.deepEqual(ok.messages[0], { style: 'info', text: 'hello alice from jmp-1' });
    assert.equal(ok.messages[1]?.style, 'prompt_echo_off');

    const wrong = await pam.authenticate({ service: 'conv', user: 'alice', confdir, answers: ['nope'] });
    assert.equal(wrong.result, 'PAM_SYSTEM_ERR'); // pam_exec's answer when the command fails
    assert.equal(wrong.step, 'authenticate');
  });

  test('a prompt without an answer is a conversation error', async () => {
    service('prompt', [
      `auth required ${SECURITY}/pam_exec.so expose_authtok quiet /bin/true`,
      `account required ${SECURITY}/pam_permit.so`,
    ]);
    const r = await pam.authenticate({ service: 'prompt', user: 'alice', confdir, answers: [] });
    assert.notEqual(r.result, 'PAM_SUCCESS');
    assert.equal(r.messages[0]?.style, 'prompt_echo_off');
    assert.equal(r.answersUsed, 0);
  });

  test('messages are bounded: 32 recorded, 1 KiB each', async () => {
    const longFile = join(confdir, 'long.txt');
    writeFileSync(longFile, 'é'.repeat(1500)); // 3000 bytes of two-byte characters
    const lines = [`auth optional ${SECURITY}/pam_echo.so file=${longFile}`];
    for (let i = 1; i < 40; i++) lines.push(`auth optional ${SECURITY}/pam_echo.so m${i}`);
    lines.push(`auth required ${SECURITY}/pam_permit.so`, `account required ${SECURITY}/pam_permit.so`);
    service('many', lines);
    const r = await pam.authenticate({ service: 'many', user: 'alice', confdir });
    assert.equal(r.result, 'PAM_SUCCESS');
    assert.equal(r.messages.length, 32);
    assert.equal(r.messagesDropped, 8);
    // Cut to 1 KiB on a character boundary: 512 two-byte characters, no U+FFFD.
    assert.equal(r.messages[0]?.text, 'é'.repeat(512));
    assert.equal(r.messages[31]?.text, 'm31');
  });

  test('runs off the main thread: several in parallel', async () => {
    service('permit2', [`auth required ${SECURITY}/pam_permit.so`, `account required ${SECURITY}/pam_permit.so`]);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => pam.authenticate({ service: 'permit2', user: 'alice', confdir })),
    );
    for (const r of results) assert.equal(r.result, 'PAM_SUCCESS');
  });

  test('bad options are TypeErrors', async () => {
    const bad: unknown[] = [
      undefined,
      {},
      { service: '', user: 'a' },
      { service: '../etc/x', user: 'a' },
      { service: 's', user: '' },
      { service: 's', user: 'a\0b' },
      { service: 's', user: 'a', confdir: 3 },
      { service: 's', user: 'a', confdir: '' },
      { service: 's', user: 'a', answers: 'x' },
      { service: 's', user: 'a', answers: [1] },
      { service: 's', user: 'a', answers: ['a\0'] },
      { service: 's', user: 'a', answers: new Array(33).fill('x') },
      { service: 's', user: 'a', rhost: 1 },
    ];
    for (const options of bad) {
      await assert.rejects(pam.authenticate(options as never), TypeError, JSON.stringify(options));
    }
  });
});
