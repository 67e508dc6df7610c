// Real libpam driving pam_jmp.so (built by `make pam-build`) against a
// scripted agent (agent-responder.ts). Each PAM service file lives in a
// temporary confdir and passes conf= to a file that does not exist, so the
// host's /etc/jmp/pam.conf never matters.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeValue } from '@jmp/agent/protocol/line';
import { loadAddon, pam, type PamAuthenticateOptions, type PamResult } from '../src/index.js';
import { startResponder, type Responder } from './agent-responder.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const MODULE = process.env['JMP_PAM_MODULE'] ?? join(REPO, 'build/pam/pam_jmp.so');
const SECURITY = '/usr/lib/x86_64-linux-gnu/security';
const TICKET_PROMPT = 'jmp ticket: ';

type FailMode = 'deny' | 'ignore' | 'allow';

describe('pam_jmp.so through libpam', () => {
  let confdir: string;
  let agent: Responder;

  /** Writes a service file; `jmp` lines get the module path and its arguments. */
  function service(name: string, lines: string[]): string {
    writeFileSync(join(confdir, name), lines.join('\n') + '\n');
    return name;
  }
  function jmpArgs(opts: { socket?: string; timeoutMs?: number; failMode?: FailMode } = {}): string {
    const socket = opts.socket ?? agent.socketPath;
    return `${MODULE} socket=${socket} timeout_ms=${opts.timeoutMs ?? 2000} fail_mode=${opts.failMode ?? 'deny'} conf=${join(confdir, 'absent-pam.conf')}`;
  }
  function run(options: Omit<PamAuthenticateOptions, 'confdir'>): Promise<PamResult> {
    return pam.authenticate({ confdir, ...options });
  }
  const sshd = { service: 'jmp-sshd', user: 'alice', rhost: '10.231.0.1', tty: 'ssh' };

  before(async () => {
    loadAddon();
    assert.ok(existsSync(MODULE), `${MODULE} is missing: run \`make pam-build\` (or set JMP_PAM_MODULE)`);
    confdir = mkdtempSync(join(tmpdir(), 'jmp-pamjmp-'));
    agent = await startResponder({ status: 'allow', mode: 'online' });
  });
  after(async () => {
    await agent?.close();
    if (confdir) rmSync(confdir, { recursive: true, force: true });
  });
  beforeEach(() => {
    agent.exchanges.length = 0;
    agent.setReply({ status: 'allow', mode: 'online' });
    service('jmp-sshd', [`auth required ${jmpArgs()}`, `account required ${jmpArgs()}`]);
  });

  test('allow: the ticket prompt, the exact request lines, PAM_SUCCESS', async () => {
    const ticket = 'eyJhbGciOiJFUzI1NiIs.eyJzdWIi-_~.sig+/= %ü';
    const r = await run({ ...sshd, answers: [ticket] });
    assert.equal(r.result, 'PAM_SUCCESS', JSON.stringify(r));
    assert.equal(r.step, 'account');
    assert.deepEqual(r.messages, [{ style: 'prompt_echo_off', text: TICKET_PROMPT }]);
    assert.equal(r.answersUsed, 1);
    assert.deepEqual(
      agent.exchanges.map((e) => e.line),
      [
        'v1 auth user=alice service=jmp-sshd rhost=10.231.0.1 tty=ssh ticket=eyJhbGciOiJFUzI1NiIs.eyJzdWIi-_~.sig%2B%2F%3D%20%25%C3%BC',
        'v1 account user=alice service=jmp-sshd rhost=10.231.0.1 tty=ssh',
      ],
    );
    const auth = agent.exchanges[0]!.request;
    assert.ok(!(auth instanceof Error) && auth.op === 'auth');
    assert.equal(auth.ticket, ticket);
    // The agent sees the PAM caller (this process) through SO_PEERCRED.
    assert.deepEqual(agent.exchanges[0]!.peer, { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  });

  test('absent items are not sent', async () => {
    const r = await run({ service: 'jmp-sshd', user: 'alice', answers: ['t'] });
    assert.equal(r.result, 'PAM_SUCCESS');
    assert.deepEqual(
      agent.exchanges.map((e) => e.line),
      ['v1 auth user=alice service=jmp-sshd ticket=t', 'v1 account user=alice service=jmp-sshd'],
    );
  });

  test('deny with a reason: PAM_AUTH_ERR, the reason arrives as an info message', async () => {
    const reason = 'no login right for alice on web-01';
    agent.setReply({ status: 'deny', reason, mode: 'online' });
    const r = await run({ ...sshd, answers: ['ticket'] });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.equal(r.step, 'authenticate');
    assert.deepEqual(r.messages, [
      { style: 'prompt_echo_off', text: TICKET_PROMPT },
      { style: 'info', text: reason },
    ]);
    assert.equal(agent.exchanges.length, 1);
  });

  test('deny at account: PAM_PERM_DENIED at the account step', async () => {
    agent.setReply((req) =>
      req.op === 'account' ? { status: 'deny', reason: 'login window closed', mode: 'offline' } : { status: 'allow' },
    );
    const r = await run({ ...sshd, answers: ['ticket'] });
    assert.equal(r.result, 'PAM_PERM_DENIED');
    assert.equal(r.step, 'account');
    assert.deepEqual(r.messages.at(-1), { style: 'info', text: 'login window closed' });
  });

  test('an error answer denies even with fail_mode=allow (the agent is there)', async () => {
    service('jmp-sshd', [
      `auth required ${jmpArgs({ failMode: 'allow' })}`,
      `account required ${SECURITY}/pam_permit.so`,
    ]);
    agent.setReply({ status: 'error', code: 'forbidden', reason: 'PAM operations need uid 0' });
    const r = await run({ ...sshd, answers: ['ticket'] });
    assert.equal(r.result, 'PAM_AUTH_ERR');
  });

  test('no ticket answer: PAM_AUTH_ERR and nothing is sent', async () => {
    const r = await run({ ...sshd, answers: [] });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.equal(agent.exchanges.length, 0);
  });

  test('sudo: op sudo with the invoking user and runas, no prompt', async () => {
    service('sudo', [`auth required ${jmpArgs()}`, `account required ${SECURITY}/pam_permit.so`]);
    const r = await run({ service: 'sudo', user: 'root', ruser: 'alice', tty: '/dev/pts/3' });
    assert.equal(r.result, 'PAM_SUCCESS', JSON.stringify(r));
    assert.deepEqual(r.messages, []);
    assert.deepEqual(
      agent.exchanges.map((e) => e.line),
      ['v1 sudo user=alice runas=root service=sudo tty=%2Fdev%2Fpts%2F3'],
    );
  });

  test('sudo without RUSER: the invoking user is the real uid', async () => {
    service('sudo', [`auth required ${jmpArgs()}`, `account required ${SECURITY}/pam_permit.so`]);
    agent.setReply({ status: 'deny', reason: 'no root right', mode: 'online' });
    const r = await run({ service: 'sudo', user: 'root' });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.deepEqual(r.messages, [{ style: 'info', text: 'no root right' }]);
    assert.deepEqual(
      agent.exchanges.map((e) => e.line),
      [`v1 sudo user=${encodeValue(userInfo().username)} runas=root service=sudo`],
    );
  });

  test('su: op su with user and runas', async () => {
    service('su', [`auth required ${jmpArgs()}`, `account required ${SECURITY}/pam_permit.so`]);
    const r = await run({ service: 'su', user: 'bob', ruser: 'alice', tty: 'pts/1' });
    assert.equal(r.result, 'PAM_SUCCESS');
    assert.deepEqual(
      agent.exchanges.map((e) => e.line),
      ['v1 su user=alice runas=bob service=su tty=pts%2F1'],
    );
  });

  describe('timeout: the agent never answers', () => {
    const expected: Record<FailMode, string> = { deny: 'PAM_AUTH_ERR', ignore: 'PAM_SUCCESS', allow: 'PAM_SUCCESS' };
    for (const failMode of ['deny', 'ignore', 'allow'] as const) {
      test(`fail_mode=${failMode}`, async () => {
        agent.setReply('hang');
        // ignore hands over to the next module: pam_permit here, so the stack succeeds.
        service('jmp-sshd', [
          `auth required ${jmpArgs({ timeoutMs: 300, failMode })}`,
          ...(failMode === 'ignore' ? [`auth required ${SECURITY}/pam_permit.so`] : []),
          `account required ${SECURITY}/pam_permit.so`,
        ]);
        const start = performance.now();
        const r = await run({ ...sshd, answers: ['ticket'] });
        const elapsed = performance.now() - start;
        assert.equal(r.result, expected[failMode]);
        assert.equal(agent.exchanges.length, 1, 'the request was sent before the deadline');
        assert.ok(elapsed >= 280 && elapsed < 2000, `deadline honoured: ${elapsed.toFixed(0)} ms`);
      });
    }
  });

  describe('agent absent (no socket)', () => {
    const cases: [FailMode, string, string, string][] = [
      ['deny', '', 'PAM_AUTH_ERR', 'authenticate'],
      ['ignore', `auth required ${SECURITY}/pam_deny.so`, 'PAM_AUTH_ERR', 'authenticate'],
      ['ignore', `auth required ${SECURITY}/pam_permit.so`, 'PAM_SUCCESS', 'account'],
      ['allow', '', 'PAM_SUCCESS', 'account'],
    ];
    for (const [failMode, next, result, step] of cases) {
      test(`fail_mode=${failMode}${next ? ` then ${next.split('/').at(-1)}` : ''} → ${result}`, async () => {
        const socket = join(confdir, 'no-agent.sock');
        service('jmp-sshd', [
          `auth required ${jmpArgs({ socket, failMode })}`,
          ...(next ? [next] : []),
          `account required ${SECURITY}/pam_permit.so`,
        ]);
        const r = await run({ ...sshd, answers: ['ticket'] });
        assert.equal(r.result, result);
        assert.equal(r.step, step);
      });
    }

    test('fail_mode=ignore is really PAM_IGNORE: the next module decides (pam_deny in account)', async () => {
      const socket = join(confdir, 'no-agent.sock');
      service('jmp-sshd', [
        `auth sufficient ${SECURITY}/pam_permit.so`,
        `account required ${jmpArgs({ socket, failMode: 'ignore' })}`,
        `account required ${SECURITY}/pam_deny.so`,
      ]);
      const r = await run({ ...sshd, answers: [] });
      assert.equal(r.step, 'account');
      assert.equal(r.result, 'PAM_AUTH_ERR'); // pam_deny's account answer, not pam_jmp's PAM_PERM_DENIED
    });
  });

  test('tolerant reading: lower-case hex, unknown keys, empty values, UTF-8 reason', async () => {
    agent.setReply({ raw: 'v1 deny future_key=1 reason=k%c3%a9in%20%2fzugang%20f%C3%BCr%20alice hint= mode=online\n' });
    const r = await run({ ...sshd, answers: ['t'] });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.deepEqual(r.messages.at(-1), { style: 'info', text: 'kéin /zugang für alice' });
  });

  test('a request too long to send is denied whatever the fail mode', async () => {
    service('jmp-sshd', [
      `auth required ${jmpArgs({ failMode: 'allow' })}`,
      `account required ${SECURITY}/pam_permit.so`,
    ]);
    const r = await run({ ...sshd, answers: ['x'.repeat(9000)] });
    assert.equal(r.result, 'PAM_AUTH_ERR');
    assert.equal(agent.exchanges.length, 0);
  });

  describe('bad answers are "agent unreachable": the fail mode applies', () => {
    const replies: [string, { raw: string } | 'close'][] = [
      ['unparseable', { raw: 'v1 allow mode=online\r\n' }],
      ['unknown status', { raw: 'v1 maybe\n' }],
      ['wrong version', { raw: 'v2 allow\n' }],
      ['duplicate key', { raw: 'v1 allow mode=online mode=offline\n' }],
      ['NUL in a value', { raw: 'v1 allow reason=a%00b\n' }],
      ['bad escape', { raw: 'v1 allow reason=%G1\n' }],
      ['no newline', { raw: 'v1 allow' }],
      ['too long', { raw: `v1 allow reason=${'x'.repeat(9000)}\n` }],
      ['closed without answer', 'close'],
    ];
    for (const [what, reply] of replies) {
      test(what, async () => {
        agent.setReply(reply);
        service('jmp-sshd', [
          `auth required ${jmpArgs({ failMode: 'allow' })}`,
          `account required ${SECURITY}/pam_permit.so`,
        ]);
        assert.equal((await run({ ...sshd, answers: ['t'] })).result, 'PAM_SUCCESS', `${what} with fail_mode=allow`);
        service('jmp-sshd', [
          `auth required ${jmpArgs({ failMode: 'deny' })}`,
          `account required ${SECURITY}/pam_permit.so`,
        ]);
        assert.equal((await run({ ...sshd, answers: ['t'] })).result, 'PAM_AUTH_ERR', `${what} with fail_mode=deny`);
      });
    }
  });
});
