// The web terminal on a real target: jmp-socket (its own process, from
// main.ts) ⇄ jmp-ssh ⇄ a lab host (sshd + pam_jmp + jmp-agent). All 256 byte
// values round trip, a resize reaches the pty, and a page that stops acking
// a flood pauses the channel while jmp-socket's memory stays flat.
// Needs root; builds its own lab (JMP_LAB_PREFIX=jws- JMP_LAB_NET=10.234.0
// JMP_LAB_DIR=/run/jmp-ws-lab unless set).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { Lab, LabHost } from '../../../test/lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, webLogin, type TestApi } from '../../api/test/harness.js';
import { startJmpSsh, type RunningSsh } from '../../ssh/test/jmp-ssh.js';
import { TERMINAL_WINDOW_BYTES } from '@jmp/contract/schemas/web';
import { spawnSocket, rssMiB, metric, until, Terminal, type SocketProcess } from './stack.js';

process.env.JMP_LAB_PREFIX ??= 'jws-';
process.env.JMP_LAB_NET ??= '10.234.0';
process.env.JMP_LAB_DIR ??= '/run/jmp-ws-lab';
// After the variables: both modules read them when loaded.
const { startLab } = await import('../../../test/lab/lab.js');
const { enrolLabHosts, writeAgentConf } = await import('../../../test/e2e/helpers.js');

// `make test` runs this file before and after `lab-install`; before, it is skipped.
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !existsSync('/usr/lib/x86_64-linux-gnu/security/pam_jmp.so')
      ? 'needs the lab modules (make lab-install)'
      : false;

let lab: Lab | undefined, api: TestApi | undefined, ssh: RunningSsh | undefined, sock: SocketProcess | undefined;
let h1: LabHost, cookie: string;
const PROMPT = /alice@h1[^\n]*\$ (?:\x1b\[K)?$/;

before(
  async () => {
    if (skip) return;
    lab = await startLab({
      hosts: ['h1'],
      prepare: (h) => writeAgentConf(h, { policy: { intervalMs: 1000, jitterMs: 0 } }),
    });
    h1 = lab.host('h1');
    api = await startApi({ listenHost: lab.bridgeAddress });
    const svc = await addService(api.db, (await addProject(api.db)).id);
    const ids = await enrolLabHosts(api, svc.id, [h1]);
    const alice = await addUser(api.db, { username: 'alice', password: 'alice password 1' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: ids.h1!, right: 'login' });
    await h1.restartAgent();
    await until('h1 knows alice', async () => (await h1.exec(['getent', 'passwd', 'alice'])).code === 0, 20_000, 200);
    ssh = await startJmpSsh(api);
    sock = await spawnSocket(api, ssh);
    cookie = (await webLogin(api, 'alice', 'alice password 1')).cookie.cookie;
  },
  { timeout: 120_000 },
);

after(async () => {
  await sock?.stop();
  await ssh?.close();
  await api?.close();
  await lab?.stop();
});

const opened: Terminal[] = [];
afterEach(() => {
  for (const t of opened.splice(0)) t.close();
});

async function onH1(): Promise<Terminal> {
  const t = await Terminal.connect(sock!.url, { cookie, origin: sock!.url });
  opened.push(t);
  assert.deepEqual(await t.open('h1', 120, 40), { ok: true });
  try {
    await t.until(PROMPT, 30_000);
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\nsshd log:\n${readFileSync(h1.sshdLog, 'utf8').slice(-2000)}\nagent log:\n${readFileSync(h1.agentLog, 'utf8').slice(-2000)}`,
    );
  }
  return t;
}

/** Runs a line and returns the screen from where it was typed. */
async function run(t: Terminal, line: string, expect: RegExp): Promise<string> {
  const from = t.received();
  t.send(`${line}\r`);
  return t.until(expect, 15_000, from);
}

test('all 256 byte values round trip through the target', { timeout: 60_000, skip }, async () => {
  const t = await onH1();
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  // Raw mode without echo: the pty passes bytes through unchanged both ways.
  // The quotes keep the markers out of the echoed command line.
  const from = t.received();
  t.send("stty raw -echo; printf 'BEGIN''>'; head -c 256; printf '<''END'; stty sane\r");
  await t.until(/BEGIN>/, 15_000, from);
  t.send(all);
  await until('the bytes came back', () => t.bytes().subarray(from).includes('<END'), 15_000);
  const screen = t.bytes().subarray(from);
  const start = screen.indexOf('BEGIN>') + 'BEGIN>'.length;
  const echoed = screen.subarray(start, screen.indexOf('<END', start));
  assert.equal(echoed.length, 256, `got ${echoed.length} bytes: ${echoed.toString('hex')}`);
  assert.deepEqual([...echoed], [...all]);
  await t.until(PROMPT, 10_000, from + start + 256);
  t.close();
});

test('a resize reaches the pty', { timeout: 60_000, skip }, async () => {
  const t = await onH1();
  assert.match(await run(t, 'stty size', /[\r\n]40 120\r\n/), /40 120/);
  t.socket.emit('resize', { cols: 100, rows: 30 });
  await new Promise((r) => setTimeout(r, 200));
  assert.match(await run(t, 'stty size', /[\r\n]30 100\r\n/), /30 100/);
  t.socket.emit('resize', { cols: 0, rows: 0 }); // a hidden terminal: ignored
  await new Promise((r) => setTimeout(r, 200));
  assert.match(await run(t, 'stty size', /[\r\n]30 100\r\n/), /30 100/);
  const exited = t.exited;
  t.send('exit\r');
  assert.match((await exited).reason, /^session ended/);
});

test(
  'back-pressure: a page that stops acking pauses the channel; memory stays flat',
  { timeout: 120_000, skip },
  async () => {
    const t = await onH1();
    const pid = sock!.pid;
    const rssBefore = rssMiB(pid);
    t.autoAck = false;
    const from = t.received();
    t.send('yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r');
    await until(
      'the channel is paused',
      async () => (await metric(sock!.url, 'jmp_socket_terminals_paused')) === 1,
      30_000,
      100,
    );
    // The target keeps producing; nothing more may reach the page while it does not ack.
    await new Promise((r) => setTimeout(r, 1000));
    const held = t.received() - from;
    let rssMax = 0;
    for (let i = 0; i < 20; i++) {
      rssMax = Math.max(rssMax, rssMiB(pid));
      await new Promise((r) => setTimeout(r, 150));
    }
    const unacked = await metric(sock!.url, 'jmp_socket_unacked_bytes');
    process.stderr.write(
      `back-pressure: ${held} bytes held unacked (window ${TERMINAL_WINDOW_BYTES}), unacked metric ${unacked}, rss ${rssBefore.toFixed(1)} → max ${rssMax.toFixed(1)} MiB over 3 s\n`,
    );
    assert.equal(t.received() - from, held, 'no output while paused');
    assert.ok(held >= TERMINAL_WINDOW_BYTES / 2, `some output was sent before the pause (${held})`);
    assert.ok(held <= TERMINAL_WINDOW_BYTES + 64 * 1024, `at most the window plus a chunk unacked (${held})`);
    assert.equal(unacked, held);
    assert.ok(rssMax - rssBefore < 48, `jmp-socket's memory stays bounded (+${(rssMax - rssBefore).toFixed(1)} MiB)`);
    assert.equal(await metric(sock!.url, 'jmp_socket_terminals_paused'), 1);

    // Acking again resumes the flow.
    t.releaseAcks();
    await until('output flows again', () => t.received() - from > held + 4 * TERMINAL_WINDOW_BYTES, 30_000);
    const exited = t.exited;
    t.send('\x03');
    await t.until(PROMPT, 30_000, t.received() - 4096);
    t.send('exit\r');
    assert.match((await exited).reason, /^session ended/);
  },
);
