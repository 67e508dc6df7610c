// SSH clients jmp did not write, against jmp-ssh: paramiko (the client of
// Ansible, Fabric, netmiko and many scripts), AsyncSSH and PuTTY's plink.
// paramiko sends a service request before every authentication method, and
// falls back from "password" to keyboard-interactive; the server must take
// both, as OpenSSH does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { readFileSync } from 'node:fs';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { startApi, addUser, addProject, addService, addHost, addRole, type TestApi } from '../../api/test/harness.js';
import { generateEd25519KeyPair } from '../src/server/host-key.js';
import { startJmpSsh, type RunningSsh } from './jmp-ssh.js';

const PYTHON = '/usr/bin/python3';
const run = promisify(execFile);
const skip =
  !['paramiko', 'asyncssh'].every((m) => existsSync(`/usr/lib/python3/dist-packages/${m}`)) &&
  'python3-paramiko or python3-asyncssh is not installed (make deps)';

let api: TestApi, ssh: RunningSsh, dir: string;
let alice: { id: number; username: string };
const keys = { registered: '', other: '' };

before(async () => {
  if (skip) return;
  api = await startApi();
  ssh = await startJmpSsh(api);
  dir = mkdtempSync(join(tmpdir(), 'jmp-paramiko-'));
  const p = await addProject(api.db, 'shop');
  const s = await addService(api.db, p.id, 'web');
  alice = await addUser(api.db, { password: 'alice password 1' });
  await addRole(api.db, alice.id, 'service', s.id, 'ops');
  await addHost(api.db, { hostname: 'web-01', service_id: s.id, addresses: ['10.231.0.50'] });
  const mine = generateEd25519KeyPair();
  const parsed = parseSshPublicKey(mine.public);
  assert.ok(typeof parsed !== 'string');
  await api.db('user_ssh_keys').insert({ user_id: alice.id, public_key: parsed.line, fingerprint: parsed.fingerprint });
  keys.registered = join(dir, 'registered');
  keys.other = join(dir, 'other');
  writeFileSync(keys.registered, mine.private, { mode: 0o600 });
  writeFileSync(keys.other, generateEd25519KeyPair().private, { mode: 0o600 });
});
after(async () => {
  await ssh?.close();
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs paramiko: connect with the given arguments, then one command; prints the exit status and output. */
async function paramiko(connect: string, command: string): Promise<{ code: number; out: string; err: string }> {
  const py = [
    'import paramiko, sys',
    'c = paramiko.SSHClient()',
    'c.set_missing_host_key_policy(paramiko.AutoAddPolicy())',
    `c.connect('127.0.0.1', port=${ssh.port}, username=${JSON.stringify(alice.username)}, look_for_keys=False, allow_agent=False, timeout=15, ${connect})`,
    `i, o, e = c.exec_command(${JSON.stringify(command)})`,
    'code = o.channel.recv_exit_status()',
    'sys.stdout.write(o.read().decode())',
    'sys.stderr.write(e.read().decode())',
    'c.close()',
    'sys.exit(code)',
  ].join('\n');
  // Asynchronous: jmp-ssh runs in this process.
  return run(PYTHON, ['-c', py], { timeout: 30_000 }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : -1,
      out: e.stdout ?? '',
      err: e.stderr ?? '',
    }),
  );
}

test('password: paramiko falls back to keyboard-interactive and runs a one-shot command', { skip }, async () => {
  const r = await paramiko(`password='alice password 1'`, 'help');
  assert.equal(r.code, 0, r.err.slice(-1500));
  assert.match(r.out, /jmp jump shell/);
});

test('a key jmp does not know, then the password: both methods on one connection', { skip }, async () => {
  const r = await paramiko(`key_filename=${JSON.stringify(keys.other)}, password='alice password 1'`, 'info web-01');
  assert.equal(r.code, 0, r.err.slice(-1500));
  assert.match(r.out, /web-01 {2}10\.231\.0\.50 {2}shop\/web/);
});

test('the registered key; a wrong password is refused, the connection not dropped mid-way', { skip }, async () => {
  const ok = await paramiko(`key_filename=${JSON.stringify(keys.registered)}`, 'help');
  assert.equal(ok.code, 0, ok.err.slice(-1500));
  const bad = await paramiko(`password='wrong'`, 'help');
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /AuthenticationException|Authentication failed/);
  assert.doesNotMatch(bad.err, /SSHException: No existing session|Error reading SSH protocol banner/);
});

test('AsyncSSH: password (keyboard-interactive), two commands on one connection', { skip }, async () => {
  const py = [
    'import asyncio, asyncssh, sys',
    'async def main():',
    `    async with asyncssh.connect('127.0.0.1', port=${ssh.port}, username=${JSON.stringify(alice.username)}, password='alice password 1', known_hosts=None, client_keys=None) as c:`,
    "        r = await c.run('help')",
    "        print('help', r.exit_status)",
    "        r = await c.run('info web-01')",
    "        print('info', r.exit_status, r.stdout.splitlines()[0])",
    'asyncio.run(main())',
  ].join('\n');
  const r = await run(PYTHON, ['-W', 'ignore', '-c', py], { timeout: 30_000 });
  assert.match(r.stdout, /help 0/);
  assert.match(r.stdout, /info 0 web-01 {2}10\.231\.0\.50 {2}shop\/web/);
});

test("PuTTY's plink: password by keyboard-interactive, jmp-ssh's host key pinned", { skip }, async () => {
  const k = ssh2.utils.parseKey(readFileSync(ssh.hostKeyPath));
  if (k instanceof Error) throw k;
  const fp = `SHA256:${createHash('sha256').update(k.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
  const r = await run(
    'plink',
    [
      '-batch',
      '-P',
      String(ssh.port),
      '-pw',
      'alice password 1',
      '-hostkey',
      fp,
      `${alice.username}@127.0.0.1`,
      'help',
    ],
    { timeout: 30_000 },
  );
  assert.match(r.stdout, /jmp jump shell/);
});
