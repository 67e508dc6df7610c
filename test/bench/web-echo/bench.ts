// web-echo: how long a typed character takes to come back on the screen.
//   web  the console in headless Chromium, a terminal tab on h1: from the
//        keydown event in the page to the echoed character written into
//        xterm.js (the tab's terminal-output event), both timed in the page.
//        Path: xterm → socket.io → jmp-socket → ssh2 → jmp-ssh (guard,
//        recorder) → h1's sshd → bash, and back.
//   ssh  the plain ssh session a person would use: the OpenSSH client on a
//        pseudo-terminal (test/e2e/pty.ts), logged in to jmp-ssh, `ssh h1`
//        from the jump shell: from typing the character into the pty to its
//        echo coming out. Like the browser, a client process sits between the
//        keyboard and jmp-ssh.
//   echo the same console page in a second headless tab whose terminal's
//        WebSocket ends in a trivial echo (echo-server.ts): what the page,
//        Chromium and socket.io cost without jmp behind them.
//   ssh2 (stderr only) an ssh2 client inside this process: the bare network
//        round trip through jmp-ssh, with no client-side terminal at all.
// Method (test/bench/README.md): a warm-up round, then BENCH_ROUNDS (default 3)
// rounds of BENCH_KEYS (default 100) keystrokes per path at h1's bash prompt,
// typed in alternating blocks of 20 (ssh, echo, web, ssh2), so noise on this
// shared machine hits all alike. Per round: web p99 / (echo p99 + ssh p99);
// `ratio` is the median of these. Goal ≤ 1.3. A character that does not come
// back is a wrong answer (exit 1).
// Chromium runs as a person's would (60 Hz frame clock). JMP_CHROMIUM_FLAGS
// adds launch flags for diagnosis: with "--disable-frame-rate-limit
// --disable-gpu-vsync" the page gets the echo without waiting for a frame
// (web p99 8.6-10.4 ms against ssh 5-6 ms in the same runs: ratio 1.5-2.1).
// Last line: {"bench":"web-echo","ratio":…,"web_p99_ms":…,"echo_p99_ms":…,"ssh_p99_ms":…,"rounds":…}
import { opensshArgs } from '../lib/openssh.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { login, shell } from '../../../services/ssh/test/jmp-ssh.js';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';
import { knownHostsLine } from '../../e2e/helpers.js';
import { spawnPty, type Pty } from '../../e2e/pty.js';
import { generateEd25519KeyPair } from '../../../services/ssh/src/server/host-key.js';
import { goal, median, pct as pctOf, result, round3, roundCount } from '../lib/method.js';
import { startEchoConsole, type EchoConsole } from './echo-server.js';

process.env.JMP_LAB_PREFIX ??= 'jwb-';
process.env.JMP_LAB_NET ??= '10.235.0';
process.env.JMP_LAB_DIR ??= '/run/jmp-web-lab';
const { startConsoleStack, newPage, loginAs, screenUntil, WEB_DIST } = await import('../../browser/stack.js');

const KEYS = Number(process.env.BENCH_KEYS ?? 100);
const BLOCK = 20;
const WARMUP = 20;
const TARGET_RATIO = 1.3;
const ECHO_TIMEOUT_MS = 5000;
const log = (m: string): void => void process.stderr.write(`web-echo: ${m}\n`);
/** Letters only: each echoes as itself at a bash prompt. */
const keyAt = (i: number): string => String.fromCharCode(97 + (i % 26));

class WrongAnswer extends Error {}

type Shell = Awaited<ReturnType<typeof shell>>;

/** One keystroke through the OpenSSH client on a pty: type it, wait for it to come out. */
async function ptyKey(pty: Pty, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const out = pty.proc.stdout;
    const timer = setTimeout(() => {
      out.off('data', onData);
      reject(new WrongAnswer(`OpenSSH: "${key}" did not come back within ${ECHO_TIMEOUT_MS} ms`));
    }, ECHO_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      if (!d.includes(key)) return;
      clearTimeout(timer);
      out.off('data', onData);
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    };
    out.on('data', onData);
    const t0 = process.hrtime.bigint();
    pty.send(key);
  });
}

/** One keystroke through plain ssh: write it, wait for the echo. */
async function sshKey(sh: Shell, key: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const timer = setTimeout(() => {
      sh.ch.off('data', onData);
      reject(new WrongAnswer(`ssh: "${key}" did not come back within ${ECHO_TIMEOUT_MS} ms`));
    }, ECHO_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      if (!d.includes(key)) return;
      clearTimeout(timer);
      sh.ch.off('data', onData);
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    };
    sh.ch.on('data', onData);
    sh.ch.write(key);
  });
}

/** Page-side timing: keydown (capture) → the echo written into the terminal. */
async function instrument(page: Page): Promise<void> {
  await page.evaluate(() => {
    const panel = document.querySelector('.term-panel:not([hidden])')!;
    const dec = new TextDecoder();
    const w = window as unknown as { echo: { key: string; t0: number; done: ((ms: number) => void) | null } };
    w.echo = { key: '', t0: 0, done: null };
    document.addEventListener(
      'keydown',
      (e) => {
        if (e.key === w.echo.key) w.echo.t0 = performance.now();
      },
      { capture: true },
    );
    panel.addEventListener('terminal-output', (e) => {
      const bytes = (e as CustomEvent<Uint8Array>).detail;
      if (w.echo.done && w.echo.t0 && dec.decode(bytes).includes(w.echo.key)) {
        const done = w.echo.done;
        w.echo.done = null;
        done(performance.now() - w.echo.t0);
      }
    });
  });
}

async function webKey(page: Page, key: string): Promise<number> {
  const measured = page.evaluate(
    ([k, ms]) =>
      new Promise<number>((resolve, reject) => {
        const w = window as unknown as { echo: { key: string; t0: number; done: ((ms: number) => void) | null } };
        w.echo.key = k;
        w.echo.t0 = 0;
        const timer = setTimeout(() => {
          w.echo.done = null;
          reject(new Error(`"${k}" did not come back within ${ms} ms`));
        }, ms);
        w.echo.done = (v) => {
          clearTimeout(timer);
          resolve(v);
        };
      }),
    [key, ECHO_TIMEOUT_MS] as const,
  );
  await page.waitForFunction((k) => (window as unknown as { echo: { key: string } }).echo.key === k, key);
  await page.keyboard.press(key);
  try {
    return await measured;
  } catch (err) {
    throw new WrongAnswer(`web: ${(err as Error).message}`);
  }
}

/** Opens h1's terminal tab in a logged-in page and waits for its prompt. */
async function openTerminal(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Open a terminal on h1' }).click();
  await screenUntil(page, /alice@h1[^\n]*\$/, 30_000);
  await page.waitForFunction(() => document.activeElement?.classList.contains('xterm-helper-textarea'));
  await instrument(page);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('web-echo builds a lab host: run it as root');
  if (!Number.isInteger(KEYS) || KEYS < BLOCK || KEYS % BLOCK)
    throw new Error(`BENCH_KEYS must be a multiple of ${BLOCK}, got ${process.env.BENCH_KEYS}`);
  const rounds = roundCount();
  log('starting the lab, jmp-api, jmp-ssh, jmp-socket and Chromium');
  const c = await startConsoleStack({ hosts: ['h1'] });
  const tmp = mkdtempSync(join(tmpdir(), 'jmp-bench-echo-'));
  let pty: Pty | undefined;
  let echoConsole: EchoConsole | undefined;
  try {
    const aliceId = await c.stack.addPerson({
      username: 'alice',
      password: 'alice password 1',
      right: 'login',
      host: 'h1',
    });
    await c.stack.syncHosts(['alice']);

    // OpenSSH: a key for alice, jmp-ssh's host key pinned, jump shell → h1.
    const keys = generateEd25519KeyPair();
    const keyFile = join(tmp, 'id_ed25519');
    writeFileSync(keyFile, keys.private, { mode: 0o600 });
    const pub = parseSshPublicKey(keys.public);
    if (typeof pub === 'string') throw new Error(pub);
    await c.api.db('user_ssh_keys').insert({ user_id: aliceId, public_key: pub.line, fingerprint: pub.fingerprint });
    const knownHosts = join(tmp, 'known_hosts');
    writeFileSync(knownHosts, `${knownHostsLine(c.ssh.port, readFileSync(c.ssh.hostKeyPath))}\n`);
    pty = spawnPty([...opensshArgs(keyFile, knownHosts), '-p', String(c.ssh.port), 'alice@127.0.0.1'], {
      env: { TERM: 'xterm-256color', LANG: 'C.UTF-8' },
      maxTranscript: 64 * 1024,
    });
    await pty.expect(/\$ (?:\x1b\[K)?/, 30_000);
    pty.send('ssh h1\r');
    await pty.expect(/alice@h1:[^\r\n]*\$ /, 30_000);

    // ssh: jump shell → h1.
    const { client } = await login(c.ssh.port, 'alice', { password: 'alice password 1' });
    const sh = await shell(client, { term: 'xterm-256color', cols: 120, rows: 40 });
    await sh.until(/\$ (?:\x1b\[K)?$/);
    sh.send('ssh h1\r');
    await sh.until(/alice@h1[^\n]*\$ (?:\x1b\[K)?$/, 30_000);

    // web: the console's terminal tab on h1.
    const { context, page } = await newPage(c);
    await loginAs(page, c.url, 'alice', 'alice password 1');
    await openTerminal(page);

    // echo: the same page, logged in with the same cookie, against the trivial echo (own context: a visible tab of its own).
    echoConsole = await startEchoConsole(WEB_DIST, c.api.url, 'alice@h1:~$ ');
    const echoContext = await c.browser.newContext({
      viewport: page.viewportSize() ?? undefined,
      deviceScaleFactor: 1,
    });
    await echoContext.addCookies(await context.cookies(c.url));
    const echoPage = await echoContext.newPage();
    echoPage.setDefaultTimeout(20_000);
    await echoPage.goto(`${echoConsole.url}/`);
    await echoPage.getByRole('heading', { name: 'My hosts' }).waitFor();
    await openTerminal(echoPage);

    const openssh = pty;
    // Clears the typed line (Ctrl-U) every block, so the prompt line never grows long.
    const clearLine = async () => {
      sh.send('\x15');
      openssh.send('\x15');
      await page.keyboard.press('Control+U');
      await echoPage.keyboard.press('Control+U');
      await new Promise((r) => setTimeout(r, 100));
    };
    type Round = { web: number[]; echo: number[]; ssh: number[]; bare: number[] };
    const typeRound = async (n: number): Promise<Round> => {
      const r: Round = { web: [], echo: [], ssh: [], bare: [] };
      for (let done = 0; done < n; done += BLOCK) {
        const size = Math.min(BLOCK, n - done);
        for (let i = 0; i < size; i++) r.ssh.push(await ptyKey(openssh, keyAt(done + i)));
        for (let i = 0; i < size; i++) r.echo.push(await webKey(echoPage, keyAt(done + i)));
        for (let i = 0; i < size; i++) r.web.push(await webKey(page, keyAt(done + i)));
        for (let i = 0; i < size; i++) r.bare.push(await sshKey(sh, keyAt(done + i)));
        await clearLine();
      }
      return r;
    };
    const p99 = (xs: number[]) => +pctOf(xs, 99).toFixed(2);
    const ratioOf = (r: Round) => p99(r.web) / (p99(r.echo) + p99(r.ssh));
    const describe = (r: Round) =>
      `web p99 ${p99(r.web)} ms, echo page p99 ${p99(r.echo)} ms, ssh p99 ${p99(r.ssh)} ms, ssh2 p99 ${p99(r.bare)} ms; ratio ${round3(ratioOf(r))}`;
    log(`warm-up: ${describe(await typeRound(WARMUP))} (not counted)`);
    const all: Round[] = [];
    for (let i = 1; i <= rounds; i++) {
      const r = await typeRound(KEYS);
      log(`round ${i}/${rounds}: ${describe(r)} (${KEYS} keystrokes each)`);
      all.push(r);
    }
    // Both terminals still answer: a last check that the line typed is what the shell has.
    sh.send('\x15echo web-echo-$((6*7))\r');
    await sh.until(/web-echo-42/);
    openssh.send('\x15echo web-echo-$((6*7))\r');
    await openssh.expect(/[\r\n]web-echo-42\r?\n/);
    await page.keyboard.type('echo web-echo-$((6*7))\r');
    await screenUntil(page, /\nweb-echo-42/);
    client.end();

    const ratio = round3(median(all.map(ratioOf)));
    const med = (f: (r: Round) => number[]) => +median(all.map((r) => p99(f(r)))).toFixed(2);
    const web = all.flatMap((r) => r.web),
      ssh = all.flatMap((r) => r.ssh),
      echo = all.flatMap((r) => r.echo),
      bare = all.flatMap((r) => r.bare);
    const sum = (name: string, xs: number[]) =>
      `${name}: p50 ${pctOf(xs, 50).toFixed(2)} ms, p90 ${pctOf(xs, 90).toFixed(2)} ms, p99 ${p99(xs)} ms, max ${pctOf(xs, 100).toFixed(2)} ms (${xs.length} keystrokes)`;
    log(sum('web', web));
    log(sum('echo page (trivial WebSocket echo)', echo));
    log(sum('ssh (OpenSSH on a pty)', ssh));
    log(sum('ssh2 in this process (no client terminal)', bare));
    goal(
      'web-echo',
      'web p99 / (echo page p99 + ssh p99), median of rounds',
      ratio,
      ratio <= TARGET_RATIO,
      `≤ ${TARGET_RATIO}`,
    );
    result('web-echo', {
      ratio,
      web_p99_ms: med((r) => r.web),
      echo_p99_ms: med((r) => r.echo),
      ssh_p99_ms: med((r) => r.ssh),
      ssh2_p99_ms: med((r) => r.bare),
      web_ssh_ratio: round3(median(all.map((r) => p99(r.web) / p99(r.ssh)))),
      keys: KEYS,
      rounds,
    });
    await echoContext.close();
  } finally {
    pty?.proc.kill();
    await echoConsole?.close();
    await c.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    log(err instanceof WrongAnswer ? `WRONG ANSWER: ${err.message}` : `failed: ${err.stack ?? err.message}`);
    process.exit(1);
  },
);
