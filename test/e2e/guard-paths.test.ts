// No session escapes the guard: every way into a lab host through jmp-ssh
// (a hop from the jump menu by name or number, a one-shot `ssh jmp h1 [cmd]`,
// a subsystem request), with and without a terminal, with and without a
// command, is tried with a line a rule blocks. Either the line is blocked,
// never runs (its victim directory on h1 survives, while the next line does
// run) and is stored with verdict block, or the session is refused with a
// clear line. Also: sessions are refused when the rules cannot be loaded
// (unless JMP_SSH_GUARD_FAIL_OPEN), and forwarding is refused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Client, ClientChannel, PseudoTtyOptions } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { LabHost } from '../lab/lab.js';
import type { TestApi } from '../../services/api/test/harness.js';
import { startJmpSsh, login, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { until } from './helpers.js';
import { startGuardLab, type GuardLab } from './guard-lab.js';

let guard: GuardLab | undefined;
let api: TestApi | undefined, ssh: RunningSsh | undefined;
let h1: LabHost;
const RULE = 'no deleting a victim';
const PTY: PseudoTtyOptions = { term: 'xterm', cols: 120, rows: 40 };
const H1_PROMPT = /erin@h1[^\n]*\$ (?:\x1b\[K)?$/;
const JMP_PROMPT = /\[erin@jmp\]\$ (?:\x1b\[K)?$/;

before(async () => {
  guard = await startGuardLab({ name: RULE, pattern: String.raw`\brm\s+-rf\s+/tmp/victim-\d+\b` });
  ({ api, ssh, h1 } = guard);
});

after(async () => {
  await guard?.close();
});

/** A channel's stdout and stderr as one text, with waits. */
interface Drive {
  ch: ClientChannel;
  out(): string;
  send(s: string): void;
  until(re: RegExp, ms?: number): Promise<void>;
  closed: Promise<number | null>;
}

function drive(ch: ClientChannel): Drive {
  let buf = '';
  let code: number | null = null;
  ch.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
  });
  ch.stderr.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
  });
  ch.on('exit', (c: number | null) => {
    code = c;
  });
  const closed = new Promise<number | null>((r) => ch.on('close', () => r(code)));
  return {
    ch,
    closed,
    out: () => buf,
    send: (s) => {
      ch.write(s);
    },
    until: async (re, ms = 15_000) => {
      const end = Date.now() + ms;
      while (!re.test(buf)) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${re}; output so far:\n${JSON.stringify(buf.slice(-1500))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const open = (f: (cb: (err: Error | undefined, ch: ClientChannel) => void) => void): Promise<Drive> =>
  new Promise((resolve, reject) => f((err, ch) => (err ? reject(err) : resolve(drive(ch)))));

/** A subsystem request after a pty request (ssh2's client has no such call: its exec request is swapped for one). */
function subsystemWithPty(client: Client, name: string): Promise<Drive> {
  const proto = (client as unknown as { _protocol: Record<string, (...a: unknown[]) => unknown> })._protocol;
  const exec = proto.exec!;
  proto.exec = (chan: unknown, _cmd: unknown, wantReply: unknown) => {
    proto.exec = exec;
    return proto.subsystem!.call(proto, chan, name, wantReply);
  };
  return open((cb) => client.exec('-', { pty: PTY }, cb));
}

/** Without a terminal nothing prompts: send a probe until the target's shell answers it. */
async function targetAnswers(d: Drive, tag: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    d.send(`echo ${tag}\n`);
    try {
      await d.until(new RegExp(`(?:^|\\n)${tag}\\r?\\n`), 500);
      return;
    } catch {
      /* not connected yet */
    }
  }
  throw new Error(`the target never answered; output:\n${JSON.stringify(d.out().slice(-1500))}`);
}

type Path = 'menu' | 'menu-number' | 'one-shot' | 'subsystem';
type Cmd = 'none' | 'shell' | 'dangerous';
interface Case {
  path: Path;
  pty: boolean;
  cmd: Cmd;
}

const CASES: Case[] = [];
for (const pty of [true, false]) {
  for (const cmd of ['none', 'shell', 'dangerous'] as const)
    CASES.push({ path: 'menu', pty, cmd }, { path: 'one-shot', pty, cmd });
  CASES.push({ path: 'menu-number', pty, cmd: 'none' }, { path: 'subsystem', pty, cmd: 'none' });
}

CASES.forEach((c, i) => {
  const victim = `/tmp/victim-${i}`;
  const danger = `rm -rf ${victim}`;
  const name = `${c.path}, ${c.pty ? 'pty' : 'no pty'}, ${c.cmd === 'none' ? 'no command' : c.cmd === 'shell' ? 'a command that starts a shell' : 'a blocked command'}`;
  test(
    `${name}: the dangerous line is blocked and not run, or the session is refused`,
    { timeout: 90_000 },
    async () => {
      const made = await h1.exec(['sh', '-c', `mkdir -p ${victim}/a && chown -R erin ${victim}`]);
      assert.equal(made.code, 0, made.stderr);
      const { client } = await login(ssh!.port, 'erin', { password: 'erin password 12' });
      const NL = c.pty ? '\r' : '\n';
      const shellCmd = c.pty ? 'bash -i' : 'bash';
      const command = c.cmd === 'none' ? '' : c.cmd === 'shell' ? ` ${shellCmd}` : ` ${danger}`;
      const blocks = (d: Drive) => d.out().split(`by rule "${RULE}"`).length - 1;
      let expectedBlocks = 1;
      try {
        if (c.path === 'subsystem') {
          const d = c.pty ? await subsystemWithPty(client, 'sftp') : await open((cb) => client.subsys('sftp', cb));
          const code = await d.closed;
          assert.match(d.out(), /jmp: the "sftp" subsystem is not available on jmp-ssh/);
          assert.equal(code, 1);
          return;
        }
        let d: Drive;
        if (c.path === 'one-shot') {
          d = await open((cb) =>
            c.pty ? client.exec(`h1${command}`, { pty: PTY }, cb) : client.exec(`h1${command}`, cb),
          );
        } else {
          d = await open((cb) => (c.pty ? client.shell(PTY, cb) : client.shell(false, cb)));
          await d.until(JMP_PROMPT);
          d.send(c.path === 'menu-number' ? `1${NL}` : `ssh h1${command}${NL}`);
        }
        if (c.cmd === 'dangerous') {
          await d.until(new RegExp(`blocked by rule "${RULE}"`));
          if (c.path === 'one-shot') assert.equal(await d.closed, 1);
          else await d.until(/Back in jmp|jmp\]\$ (?:\x1b\[K)?$/);
        } else {
          if (c.pty) await d.until(H1_PROMPT, 20_000);
          else await targetAnswers(d, `up-${i}`);
          d.send(`${danger}${NL}`);
          await d.until(new RegExp(`blocked by rule "${RULE}"`));
          if (c.pty) await new Promise((r) => setTimeout(r, 300)); // the redraw after the block
          // The shell is alive and runs the next line: the blocked one was withheld, not lost with the session.
          d.send(`echo ran-${i}${NL}`);
          await d.until(new RegExp(`[\\r\\n]ran-${i}\\r?\\n`));
          if (c.path === 'one-shot' && !c.pty) {
            // The last line, without a newline, at EOF: judged before it is sent.
            d.send(danger);
            d.ch.end();
            expectedBlocks = 2;
            await d.closed;
          } else if (c.path === 'one-shot') {
            d.send(`exit${NL}`);
            await d.closed;
          } else {
            d.send(`exit${NL}`);
            await d.until(/Back in jmp/);
          }
        }
        assert.equal(
          blocks(d),
          expectedBlocks,
          `the person was told ${expectedBlocks} time(s): ${JSON.stringify(d.out().slice(-800))}`,
        );
      } finally {
        client.end();
      }
      assert.equal((await h1.exec(['test', '-d', `${victim}/a`])).code, 0, `${victim} survived on h1`);
      const rows = await until(
        'the blocked line in the command log',
        async () => {
          const r = await api!.db('commands').where({ line: danger }).select('verdict');
          return r.length >= expectedBlocks ? r : null;
        },
        10_000,
      );
      assert.deepEqual(
        rows.map((r: { verdict: string }) => r.verdict),
        Array(expectedBlocks).fill('block'),
      );
    },
  );
});

test('port forwarding and X11 forwarding are refused', { timeout: 30_000 }, async () => {
  const { client } = await login(ssh!.port, 'erin', { password: 'erin password 12' });
  try {
    await assert.rejects(
      new Promise((resolve, reject) =>
        client.forwardOut('127.0.0.1', 1, h1.address, 22, (err, ch) => (err ? reject(err) : resolve(ch))),
      ),
    );
    await assert.rejects(
      new Promise((resolve, reject) => client.forwardIn('127.0.0.1', 0, (err) => (err ? reject(err) : resolve(null)))),
    );
    await assert.rejects(open((cb) => client.exec('h1 echo x', { x11: true }, cb)));
  } finally {
    client.end();
  }
});

test(
  'rules that cannot be loaded refuse the session with a clear line; JMP_SSH_GUARD_FAIL_OPEN lets it in, stored as skipped',
  { timeout: 60_000 },
  async () => {
    const noRules = (a: ApiClient): ApiClient =>
      Object.assign(a, {
        guardRules: async () => {
          throw new Error('rules store unavailable');
        },
      });
    const closed = await startJmpSsh(api!, {}, noRules);
    const failOpen = await startJmpSsh(api!, { guardFailOpen: true }, noRules);
    try {
      const a = await login(closed.port, 'erin', { password: 'erin password 12' });
      try {
        const d = await open((cb) => a.client.exec('h1 echo fail-open-1', cb));
        assert.equal(await d.closed, 1);
        assert.match(d.out(), /jmp: the command rules for h1 could not be loaded, so the session cannot be checked/);
        assert.doesNotMatch(d.out(), /fail-open-1/);
        const m = await open((cb) => a.client.shell(PTY, cb));
        await m.until(JMP_PROMPT);
        m.send('ssh h1\r');
        await m.until(/could not be loaded[\s\S]*jmp\]\$ (?:\x1b\[K)?$/);
        assert.doesNotMatch(m.out(), /erin@h1/);
      } finally {
        a.client.end();
      }
      const b = await login(failOpen.port, 'erin', { password: 'erin password 12' });
      try {
        const d = await open((cb) => b.client.exec('h1 echo fail-open-2', cb));
        assert.equal(await d.closed, 0);
        assert.match(d.out(), /fail-open-2/);
      } finally {
        b.client.end();
      }
      const row = await until(
        'the skipped command stored',
        () => api!.db('commands').where({ line: 'echo fail-open-2' }).first('verdict'),
        10_000,
      );
      assert.equal(row.verdict, 'skipped');
    } finally {
      await closed.close();
      await failOpen.close();
    }
  },
);
