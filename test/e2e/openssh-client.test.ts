// End-to-end with the real OpenSSH client on a pseudo-terminal, as a person
// uses jmp: `ssh -p <jmp-ssh> alice@127.0.0.1`, password then TOTP at the
// client's own prompts, the menu, `ssh h1` to a real lab host (sshd + pam_jmp
// + jmp-agent + jmp-api), whoami, sudo, a command the guard blocks, exit back
// to the menu and out; then the command log, the recording and the alert
// e-mail. jmp-ssh's host key is pinned in a known_hosts file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { LabHost } from '../lab/lab.js';
import { newTotpSecret, totpCode } from '../../services/api/src/crypto/totp.js';
import { TOTP_PURPOSE } from '../../services/api/src/auth/login.js';
import { startJmpSsh, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { createRecordings } from '@jmp/recording';
import { knownHostsLine, startJumpStack, until, type JumpStack } from './helpers.js';
import { spawnPty, type Pty } from './pty.js';
import { generateEd25519KeyPair } from '../../services/ssh/src/server/host-key.js';

let stack: JumpStack | undefined, ssh: RunningSsh | undefined;
let h1: LabHost;
let tmp: string;
const secret = newTotpSecret();
const ptys: Pty[] = [];
// The jump shell's prompt, and a bash prompt on h1 (Debian's default PS1, maybe with a title sequence before it).
const JMP_PROMPT = /\[alice@jmp\]\$ (?:\x1b\[K)?/;
const H1_PROMPT = /alice@h1:[^\r\n]*\$ /;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'jmp-openssh-'));
  stack = await startJumpStack();
  h1 = stack.lab.host('h1');
  await stack.addPerson({
    username: 'alice',
    password: 'alice password 1',
    email: 'alice@example.test',
    totpSecretEnc: stack.api.ctx.secrets.seal(secret, TOTP_PURPOSE),
    right: 'root',
    host: 'h1',
  });
  await stack.api.db('command_rules').insert({
    name: 'no deleting /tmp/x',
    pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
    action: 'block',
    severity: 'high',
  });
  await stack.syncHosts(['alice']);
  ssh = await startJmpSsh(stack.api);
  writeFileSync(join(tmp, 'known_hosts'), `${knownHostsLine(ssh.port, readFileSync(ssh.hostKeyPath))}\n`);
});

after(async () => {
  for (const p of ptys) await p.close();
  await ssh?.close();
  await stack?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The OpenSSH client as a person runs it: keyboard-interactive only, jmp-ssh's key pinned, no config files. */
function openssh(knownHosts: string, user = 'alice'): Pty {
  const p = spawnPty(
    [
      'ssh',
      '-F',
      '/dev/null',
      '-p',
      String(ssh!.port),
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'UpdateHostKeys=no',
      '-o',
      'PubkeyAuthentication=no',
      '-o',
      'PreferredAuthentications=keyboard-interactive',
      '-o',
      'NumberOfPasswordPrompts=1',
      `${user}@127.0.0.1`,
    ],
    { env: { TERM: 'xterm', LANG: 'C.UTF-8' } },
  );
  ptys.push(p);
  return p;
}

test(
  'OpenSSH client: password + TOTP → menu → ssh h1 → whoami, sudo, a blocked command → back to the menu; log, recording, alert',
  { timeout: 120_000 },
  async () => {
    const p = openssh(join(tmp, 'known_hosts'));
    await p.expect('Password: ', 15_000);
    p.send('alice password 1\r');
    await p.expect('TOTP code: ');
    p.send(`${totpCode(secret)}\r`);

    const menu = await p.expect(JMP_PROMPT, 15_000);
    assert.match(
      menu,
      new RegExp(
        String.raw`Welcome to jmp, alice\.[\s\S]*1\s+h1\s+${h1.address.replaceAll('.', '\\.')}\s+production.*\(root\)`,
      ),
    );
    p.send('ssh h1\r');
    await p.expect(H1_PROMPT, 20_000);

    p.send('whoami\r');
    assert.match(await p.expect(H1_PROMPT), /[\r\n]alice\r\n/);
    p.send('sudo -n id -u\r');
    assert.match(await p.expect(H1_PROMPT), /[\r\n]0\r\n/);
    p.send('mkdir -p /tmp/x && echo made\r');
    assert.match(await p.expect(H1_PROMPT), /[\r\n]made\r\n/);
    p.send('rm -rf /tmp/x\r');
    const blocked = await p.expect(H1_PROMPT);
    assert.match(blocked, /blocked by rule "no deleting \/tmp\/x" \(high\)/);
    p.send('test -d /tmp/x && echo still-there\r');
    assert.match(await p.expect(H1_PROMPT), /[\r\n]still-there\r\n/);
    p.send('exit\r');
    assert.match(await p.expect(JMP_PROMPT), /Back in jmp\./);
    p.send('exit\r');
    assert.equal(await p.exited, 0, `ssh exit status; transcript:\n${p.transcript().slice(-2000)}`);

    const { api } = stack!;
    const session = await until(
      'the session has ended in jmp-api',
      () => api.db('sessions').whereNotNull('ended_at').first(),
      10_000,
    );
    assert.equal(session.end_reason, 'exit');
    const commands = await until('commands stored', async () => {
      const rows: Array<{ line: string; verdict: string }> = await api
        .db('commands')
        .where({ session_id: session.id })
        .orderBy('id');
      return rows.length >= 6 ? rows : null;
    });
    assert.deepEqual(
      commands.map((c) => [c.line, c.verdict]),
      [
        ['whoami', 'pass'],
        ['sudo -n id -u', 'pass'],
        ['mkdir -p /tmp/x && echo made', 'pass'],
        ['rm -rf /tmp/x', 'block'],
        ['test -d /tmp/x && echo still-there', 'pass'],
        ['exit', 'pass'],
      ],
    );

    // The recording replays the session in order: each command, its output, the block.
    assert.ok(session.recording_uri, 'recording stored');
    let text = '';
    for await (const item of createRecordings({ dir: ssh!.recordingDir }).read(session.recording_uri))
      if (item.type === 'event' && item.event[1] === 'o') text += item.event[2];
    assert.match(
      text,
      /whoami[\s\S]*?[\r\n]alice\r\n[\s\S]*sudo -n id -u[\s\S]*?[\r\n]0\r\n[\s\S]*rm -rf \/tmp\/x[\s\S]*blocked by rule "no deleting \/tmp\/x"[\s\S]*still-there/,
    );

    await api.ctx.notifier.drain();
    assert.ok(
      stack!.mails.some(
        (m) => /rule:     no deleting \/tmp\/x \(high\)/.test(m) && /command:  rm -rf \/tmp\/x/.test(m),
      ),
      `alert e-mail sent; got ${stack!.mails.length} mails`,
    );
  },
);

test(
  'OpenSSH client: a jmp-ssh host key other than the pinned one is refused before any prompt',
  { timeout: 30_000 },
  async () => {
    const other = generateEd25519KeyPair();
    const wrong = join(tmp, 'known_hosts.wrong');
    writeFileSync(wrong, `${knownHostsLine(ssh!.port, other.private)}\n`);
    const p = openssh(wrong);
    await p.expect(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/, 15_000);
    assert.equal(await p.exited, 255);
    assert.doesNotMatch(p.transcript(), /Password: /);
  },
);

test('OpenSSH client: a wrong password is refused and nothing is opened', { timeout: 30_000 }, async () => {
  const p = openssh(join(tmp, 'known_hosts'));
  await p.expect('Password: ', 15_000);
  p.send('not the password\r');
  await p.expect(/Permission denied/, 15_000);
  assert.equal(await p.exited, 255);
  assert.doesNotMatch(p.transcript(), /TOTP code: |Welcome to jmp/);
});
