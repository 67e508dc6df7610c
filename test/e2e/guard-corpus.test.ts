// The command guard's test corpus against a real target: a person logged in
// to jmp-ssh works on lab host h1 (real sshd, bash, pam_jmp, jmp-agent,
// jmp-api) and tries, in every known way, to run a command a rule blocks:
// typed, completed with TAB, recalled with the up arrow, \rm, after `ls;`,
// edited in place, pasted in a multi-line block. Each is blocked and never
// runs (the directory survives); the same words typed inside vim are not
// judged. The victim lives in h1's private /tmp.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestApi } from '../../services/api/test/harness.js';
import { login, shell, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { until } from './helpers.js';
import { startGuardLab, type GuardLab } from './guard-lab.js';

let guard: GuardLab | undefined;
let api: TestApi | undefined, ssh: RunningSsh | undefined;
const VICTIM = '/tmp/jmp-victim';
const RULE = 'deleting the victim';

before(async () => {
  guard = await startGuardLab({ name: RULE, pattern: String.raw`\brm\s+-r\S*\s+\S*jmp-victim` });
  ({ api, ssh } = guard);
});

after(async () => {
  await guard?.close();
});

test(
  'the corpus on a real target: every way of submitting the blocked command is stopped; vim is left alone',
  { timeout: 180_000 },
  async () => {
    const { client } = await login(ssh!.port, 'erin', { password: 'erin password 12' });
    try {
      const sh = await shell(client, { term: 'xterm', cols: 120, rows: 40 });
      await sh.until(/\$ $/);
      sh.send('ssh h1\r');
      const PROMPT = /erin@h1[^\n]*\$ (?:\x1b\[K)?$/;
      await sh.until(PROMPT, 20_000);
      let mark = sh.out().length;
      const since = () => sh.out().slice(mark);
      const blocks = () => sh.out().split(`by rule "${RULE}"`).length - 1;
      const step = async (what: string, keys: string, expect: 'blocked' | 'prompt', pace = 0) => {
        const before = blocks();
        mark = sh.out().length;
        if (pace)
          for (const ch of keys) {
            sh.send(ch);
            await new Promise((r) => setTimeout(r, pace));
          }
        else sh.send(keys);
        await until(
          `${what}: ${expect}`,
          () => (expect === 'blocked' ? blocks() > before : PROMPT.test(since())),
          15_000,
          20,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\nscreen: ${JSON.stringify(since().slice(-600))}`);
        });
        // Let the redraw after a block settle before the next keys.
        await new Promise((r) => setTimeout(r, 300));
      };

      await step('make the victim', `mkdir -p ${VICTIM}/a && echo made\r`, 'prompt');
      await step('typed', `rm -rf ${VICTIM}\r`, 'blocked', 5);
      await step('completed with TAB', `rm -r ${VICTIM.slice(0, -3)}\t\r`, 'blocked', 30);
      // Put the command into history without typing it whole (the typed line does not match the rule).
      await step('history entry', `history -s rm -rf ${VICTIM.slice(0, -3)}'tim'\r`, 'prompt', 5);
      await step('recalled with the up arrow', '\x1b[A\r', 'blocked', 100);
      await step('\\rm', `\\rm -rf ${VICTIM}\r`, 'blocked', 5);
      await step('after ls;', `ls; rm -rf ${VICTIM}\r`, 'blocked', 5);
      // "rx -rf …", Ctrl-A, Ctrl-F, Ctrl-D deletes the x, then "m".
      await step('edited in place', `rx -rf ${VICTIM}\x01\x06\x04m\r`, 'blocked', 20);
      await step('a pasted block', `\x1b[200~echo one\nrm -rf ${VICTIM}\necho three\n\x1b[201~`, 'blocked');
      assert.doesNotMatch(since(), /[\r\n]one\r\n|[\r\n]three\r\n/, 'no line of the blocked paste ran');
      await step('clear the line after the paste', '\x15\r', 'prompt');

      // vim: the same words in insert mode are text, not a command.
      const before = blocks();
      mark = sh.out().length;
      sh.send('vim -u NONE -N /tmp/notes.txt\r');
      await until('vim on the alternate screen', () => since().includes('\x1b[?1049h'), 15_000, 20);
      sh.send(`irm -rf ${VICTIM}\rrm -rf ${VICTIM}`);
      await new Promise((r) => setTimeout(r, 200));
      sh.send('\x1b');
      await new Promise((r) => setTimeout(r, 200));
      sh.send(':wq\r');
      await until('back at the prompt after vim', () => PROMPT.test(since()), 15_000, 20);
      assert.equal(blocks(), before, 'nothing typed in vim was blocked');

      await step(
        'the victim is still there',
        `test -d ${VICTIM}/a && echo still-there && grep -c victim /tmp/notes.txt\r`,
        'prompt',
      );
      assert.match(since(), /still-there\r\n2\r\n/);
      sh.send('exit\r');
      await sh.until(/Back in jmp/, 10_000);

      const session = await until(
        'the session ended',
        () => api!.db('sessions').whereNotNull('ended_at').first('id'),
        10_000,
      );
      const rows = await until('commands stored', async () => {
        const r = await api!.db('commands').where({ session_id: session.id }).orderBy('id');
        return r.some((c: { line: string }) => c.line === 'exit') ? r : null;
      });
      const blocked = rows
        .filter((c: { verdict: string }) => c.verdict === 'block')
        .map((c: { line: string }) => c.line);
      assert.deepEqual(
        blocked,
        [
          `rm -rf ${VICTIM}`,
          `rm -r ${VICTIM}/`,
          `rm -rf ${VICTIM}`,
          `\\rm -rf ${VICTIM}`,
          `ls; rm -rf ${VICTIM}`,
          `rm -rf ${VICTIM}`,
          `rm -rf ${VICTIM}`, // the line of the paste that a rule stopped (nothing of the paste was sent)
        ].slice(0, blocked.length),
      );
      assert.equal(blocked.length, 7, `seven blocks stored: ${JSON.stringify(blocked)}`);
      assert.ok(
        rows.some((c: { line: string }) => c.line === 'vim -u NONE -N /tmp/notes.txt'),
        'the vim command itself is judged',
      );
      assert.ok(
        !rows.some(
          (c: { line: string; verdict: string }) =>
            /^i?rm -rf \/tmp\/jmp-victim$/.test(c.line) && c.verdict !== 'block',
        ),
        'no unblocked rm line was recorded',
      );
    } finally {
      client.end();
    }
  },
);
