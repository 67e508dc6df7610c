// jmp-socket relays every keyboard-interactive round after the credential to
// the page, so a second factor that jmp-ssh may ask one day reaches the
// person. Today's jmp-ssh asks none after a web credential, so an ssh2
// server stands in for that jmp-ssh: it spends the credential at the real
// jmp-api, then asks for a code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import { ApiClient } from '@jmp/contract';
import { startApi, addUser, webLogin, type TestApi } from '../../api/test/harness.js';
import { fingerprintOf } from '../src/ssh/host-key-pin.js';
import { startSocket, Terminal, type RunningSocket } from './stack.js';
import { generateEd25519KeyPair } from '../../ssh/src/server/host-key.js';

let api: TestApi, server: ssh2.Server, sock: RunningSocket, cookie: string;
const asked: string[][] = [];

before(async () => {
  api = await startApi();
  const hostKey = generateEd25519KeyPair();
  const parsed = ssh2.utils.parseKey(hostKey.private);
  if (parsed instanceof Error) throw parsed;
  const jmpApi = new ApiClient({ baseUrl: api.url, authorization: () => `Bearer ${api.serviceToken('ssh')}` });
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'keyboard-interactive') return ctx.reject(['keyboard-interactive']);
      ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => {
        asked.push(answers.map((a) => a.slice(0, 5)));
        jmpApi.authSsh({ method: 'web-credential', username: ctx.username, credential: answers[0] ?? '' }).then(
          () => {
            ctx.prompt(
              [
                { prompt: 'Verification code: ', echo: false },
                { prompt: 'Say hi: ', echo: true },
              ],
              'jmp',
              'second factor',
              (second) => {
                asked.push(second);
                return second[0] === '424242' ? ctx.accept() : ctx.reject();
              },
            );
          },
          () => ctx.reject(),
        );
      });
    });
    client.on('ready', () =>
      client.on('session', (accept) => {
        const s = accept();
        s.on('pty', (ok) => ok?.());
        s.on('shell', (ok) => {
          const ch = ok();
          ch.write('second factor accepted\r\n');
          ch.exit(0);
          ch.end();
        });
      }),
    );
    client.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sock = await startSocket(api, {
    port: (server.address() as AddressInfo).port,
    fingerprint: fingerprintOf(parsed.getPublicSSH()),
  });
  const u = await addUser(api.db, { username: 'erin', password: 'erin password 12' });
  cookie = (await webLogin(api, u.username, 'erin password 12')).cookie.cookie;
});
after(async () => {
  await sock.close();
  await new Promise((r) => server.close(r));
  await api.close();
});

test('a prompt after the credential reaches the page; its answer goes back', async () => {
  const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
  const opened = t.open(null);
  const prompt = await new Promise<(typeof t.prompts)[number]>((r) => t.socket.once('prompt', r));
  assert.deepEqual(prompt, {
    name: 'jmp',
    instructions: 'second factor',
    prompts: [
      { prompt: 'Verification code: ', echo: false },
      { prompt: 'Say hi: ', echo: true },
    ],
  });
  t.socket.emit('answer', ['424242', 'hi']);
  assert.deepEqual(await opened, { ok: true });
  await t.until(/second factor accepted/);
  assert.deepEqual(asked, [['jmpw_'], ['424242', 'hi']], 'the password prompt got the credential, never the page');
  assert.deepEqual(await t.exited, { reason: 'session ended' });
});

test('a wrong number of answers ends the terminal with the reason', async () => {
  const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
  const opened = t.open(null);
  await new Promise((r) => t.socket.once('prompt', r));
  t.socket.emit('answer', ['424242']);
  assert.deepEqual(await opened, {
    ok: false,
    error: 'answer: must be a list of 2 string(s) of at most 1024 characters',
  });
});

test('a wrong answer: the login is refused', async () => {
  const t = await Terminal.connect(sock.url, { cookie, origin: sock.origin });
  const opened = t.open(null);
  await new Promise((r) => t.socket.once('prompt', r));
  t.socket.emit('answer', ['000000', 'hi']);
  assert.deepEqual(await opened, { ok: false, error: 'jmp-ssh refused the login' });
});
