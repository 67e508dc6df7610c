// End-to-end: compact tickets (the RDP password of Linux desktops) on a lab
// host with real sshd, pam_jmp and jmp-agent, enrolled against a real
// jmp-api. The ticket comes from jmp-api as jmp-rdp asks for it (service role
// rdp, format compact). It logs in once through sshd's keyboard-interactive
// prompt and once through the xrdp-sesman PAM stack the package writes (the
// way xrdp-sesman drives PAM: the password answers the ECHO_OFF prompt, no
// PAM_RHOST); a replay is refused, online and, with jmp-api stopped, offline.
// Needs root, Postgres, Redis and `make lab-install native-build`.
//   scripts/node-test.sh test/e2e/compact-ticket.test.ts   (or: make e2e-test)
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { COMPACT_TICKET_MAX_LENGTH, COMPACT_TICKET_PREFIX } from '@jmp/contract/compact-ticket';
import { REPO_DIR, startLab, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { wirePam } from '../../packaging/agent/wiring/pam-stack.js';
import { agentLog, enrolLabHosts, ssh2Login, until, writeAgentConf } from './helpers.js';

describe('compact tickets end to end (lab host, real jmp-api)', { concurrency: false }, () => {
  let lab: Lab | undefined;
  let api: TestApi | undefined;
  let h1: LabHost;
  let rdp: string;

  async function compactTicket(user: string): Promise<string> {
    const r = await api!.call('POST', '/v1/tickets', {
      auth: `Bearer ${rdp}`,
      body: { user, host: 'h1', format: 'compact' },
    });
    assert.equal(r.status, 201, `ticket: ${r.status} ${JSON.stringify(r.body)}`);
    const t = r.body.ticket as string;
    assert.ok(t.startsWith(COMPACT_TICKET_PREFIX) && t.length <= COMPACT_TICKET_MAX_LENGTH, t);
    return t;
  }

  /** One PAM transaction of service xrdp-sesman inside h1, as xrdp-sesman runs it. */
  async function sesman(
    user: string,
    password: string,
  ): Promise<{ result: string; step: string; messages: unknown[] }> {
    const r = await h1.exec(
      ['sh', '-c', 'cd "$0" && exec "$@"', REPO_DIR, 'node', '--import', 'tsx', 'test/e2e/pam-service.ts'].concat([
        'xrdp-sesman',
        user,
        password,
      ]),
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { result: string; step: string; messages: unknown[] };
  }

  const denied = (r: { code: number | null; stderr: string }, reason: RegExp) => {
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, reason);
  };

  before(async () => {
    lab = await startLab({
      hosts: ['h1'],
      prepare: (h) => {
        writeAgentConf(h, { events: { flushIntervalMs: 1000 } });
        // /etc/pam.d/xrdp-sesman as the jmp-agent package wires it, with the lab's pam_jmp path and arguments.
        const module = /^auth\s.*?(\S*pam_jmp\.so.*)$/m.exec(readFileSync(join(h.etcDir, 'pam.d/sshd'), 'utf8'))![1]!;
        const stock = readFileSync(join(REPO_DIR, 'test/packages/xrdp-sesman.pam'), 'utf8');
        const wired = wirePam(stock, 'xrdp-sesman', 'xrdp-sesman').replace(/\bpam_jmp\.so\b.*$/gm, module);
        writeFileSync(join(h.etcDir, 'pam.d/xrdp-sesman'), wired);
      },
    });
    h1 = lab.host('h1');
    api = await startApi({ listenHost: lab.bridgeAddress });
    rdp = api.serviceToken('rdp');
    const svc = await addService(api.db, (await addProject(api.db)).id);
    const ids = await enrolLabHosts(api, svc.id, [h1]);
    const alice = await addUser(api.db, { username: 'alice' });
    await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: ids.h1!, right: 'login' });
    await h1.restartAgent();
    await until('h1 knows alice through NSS', async () =>
      (await h1.exec(['getent', 'passwd', 'alice'])).stdout.startsWith('alice:'),
    );
  });

  after(async () => {
    try {
      await api?.close();
    } finally {
      await lab?.stop();
    }
  });

  test('sshd: a compact ticket answers the keyboard-interactive prompt once; the replay is refused', async () => {
    const t = await compactTicket('alice');
    const r = await ssh2Login(h1, 'alice', t, 'id -un');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, ['jmp ticket: ']);
    assert.equal(r.stdout, 'alice\n');
    denied(await h1.ssh('alice', 'id -un', { ticket: t }), /ticket has already been used/);
  });

  test('xrdp-sesman: the wired stack accepts a compact ticket as the password once, without PAM_RHOST', async () => {
    const t = await compactTicket('alice');
    // One ECHO_OFF prompt: the one xrdp-sesman answers with the RDP password.
    assert.deepEqual(await sesman('alice', t), {
      result: 'PAM_SUCCESS',
      step: 'account',
      messages: [{ style: 'prompt_echo_off', text: 'jmp ticket: ' }],
    });
    assert.equal((await sesman('alice', t)).result, 'PAM_AUTH_ERR', 'the replay');
    // jmp-api decided the first (audited with the PAM service and no remote host); the agent refused the replay itself.
    const audit: Array<{ action: string; data: { service?: string; rhost?: string | null } }> = await api!
      .db('audit_events')
      .where({ target: 'alice@h1' })
      .where('action', 'like', 'pam.auth.%')
      .whereRaw(`data->>'service' = 'xrdp-sesman'`)
      .select('action', 'data');
    assert.deepEqual(
      audit.map((a) => [a.action, a.data.rhost]),
      [['pam.auth.allow', null]],
    );
  });

  test('offline (jmp-api stopped): a compact ticket logs in once from the snapshot; the replay is refused', async () => {
    const t = await compactTicket('alice');
    await api!.close();
    const r = await ssh2Login(h1, 'alice', t, 'id -un');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alice\n');
    assert.ok(
      agentLog(h1).some((l) => l.op === 'auth' && l.mode === 'offline' && l.allow === true),
      'decided offline',
    );
    denied(await h1.ssh('alice', 'id -un', { ticket: t }), /ticket has already been used \(offline\)/);
  });
});
