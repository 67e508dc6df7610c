// End-to-end through jmp-ssh: a person logs in to jmp (password + TOTP),
// picks h1 from the menu, and works on a real lab host (sshd + pam_jmp +
// jmp-agent + jmp-api): whoami, sudo, a command the guard blocks, exit back
// to the menu; then the command log, the recording and the alert e-mail.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { startLab, type Lab, type LabHost } from '../lab/lab.js';
import { addGrant, addProject, addService, addUser, startApi, type TestApi } from '../../services/api/test/harness.js';
import { newTotpSecret, totpCode } from '../../services/api/src/crypto/totp.js';
import { TOTP_PURPOSE } from '../../services/api/src/auth/login.js';
import { startJmpSsh, login, shell, type RunningSsh } from '../../services/ssh/test/jmp-ssh.js';
import { createRecordings } from '@jmp/recording';
import { enrolLabHosts, until, writeAgentConf } from './helpers.js';

let lab: Lab | undefined, api: TestApi | undefined, ssh: RunningSsh | undefined, smtp: SMTPServer | undefined;
let h1: LabHost;
const mails: string[] = [];
const secret = newTotpSecret();

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _s, cb) {
      let b = '';
      stream.on('data', (d) => {
        b += d;
      });
      stream.on('end', () => {
        mails.push(b);
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp!.listen(0, '127.0.0.1', () => r()));
  lab = await startLab({
    hosts: ['h1'],
    prepare: (h) => writeAgentConf(h, { policy: { intervalMs: 1000, jitterMs: 0 } }),
  });
  h1 = lab.host('h1');
  api = await startApi({
    listenHost: lab.bridgeAddress,
    env: { JMP_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}` },
  });
  const svc = await addService(api.db, (await addProject(api.db)).id);
  const ids = await enrolLabHosts(api, svc.id, [h1]);
  const alice = await addUser(api.db, {
    username: 'alice',
    password: 'alice password 1',
    email: 'alice@example.test',
    totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE),
  });
  await addGrant(api.db, { subject_id: alice.id, scope_type: 'host', scope_id: ids.h1!, right: 'root' });
  await api.db('command_rules').insert({
    name: 'no deleting /tmp/x',
    pattern: String.raw`\brm\s+-rf\s+/tmp/x\b`,
    action: 'block',
    severity: 'high',
  });
  // dave (password only) for the later tests: a TOTP code is good once, and alice's is spent by the first test.
  const dave = await addUser(api.db, { username: 'dave', password: 'dave password 12' });
  await addGrant(api.db, { subject_id: dave.id, scope_type: 'host', scope_id: ids.h1!, right: 'login' });
  await h1.restartAgent();
  await until(
    'h1 knows alice and dave',
    async () => (await h1.exec(['getent', 'passwd', 'alice', 'dave'])).stdout.split('\n').length === 3,
    20_000,
  );
  ssh = await startJmpSsh(api);
});

after(async () => {
  await ssh?.close();
  await api?.close();
  await lab?.stop();
  smtp?.close();
});

test(
  'menu → ssh h1 → whoami, sudo, a blocked command → back to the menu; log, recording, alert',
  { timeout: 120_000 },
  async () => {
    const { client } = await login(ssh!.port, 'alice', { password: 'alice password 1', totp: () => totpCode(secret) });
    try {
      await steps(client);
    } finally {
      client.end();
    }
  },
);

async function steps(client: Awaited<ReturnType<typeof login>>['client']): Promise<void> {
  const sh = await shell(client);
  await sh.until(
    new RegExp(String.raw`1\s+h1\s+${h1.address.replaceAll('.', '\\.')}\s+production.*\(root\)[\s\S]*\$ (?:\x1b\[K)?$`),
  );
  sh.send('ssh h1\r');
  await sh.until(/alice@h1[^\n]*\$ $/, 20_000);
  let mark = sh.out().length;
  const after = (re: RegExp) =>
    until(`screen shows ${re}`, () => re.test(sh.out().slice(mark)), 15_000, 20).then(
      () => {
        const s = sh.out().slice(mark);
        mark = sh.out().length;
        return s;
      },
      (err: Error) => {
        throw new Error(`${err.message}\nscreen since the last step: ${JSON.stringify(sh.out().slice(mark))}`);
      },
    );

  sh.send('whoami\r');
  assert.match(await after(/[\r\n]alice\r\n[\s\S]*\$ (?:\x1b\[K)?$/), /alice/);
  sh.send('sudo -n id -u\r');
  await after(/[\r\n]0\r\n[\s\S]*\$ (?:\x1b\[K)?$/);
  sh.send('mkdir -p /tmp/x && echo made\r');
  await after(/[\r\n]made\r\n[\s\S]*\$ (?:\x1b\[K)?$/);
  sh.send('rm -rf /tmp/x\r');
  const blocked = await after(/blocked by rule "no deleting \/tmp\/x"/);
  assert.match(blocked, /no deleting \/tmp\/x/);
  sh.send('test -d /tmp/x && echo still-there\r');
  await after(/[\r\n]still-there\r\n[\s\S]*\$ (?:\x1b\[K)?$/);
  sh.send('exit\r');
  await after(/Back in jmp\.[\s\S]*\$ (?:\x1b\[K)?$/);
  sh.send('exit\r');

  const session = await until(
    'the session has ended in jmp-api',
    () => api!.db('sessions').whereNotNull('ended_at').first(),
    10_000,
  );
  assert.equal(session.end_reason, 'exit');
  const commands = await until('commands stored', async () => {
    const rows = await api!.db('commands').where({ session_id: session.id }).orderBy('id');
    return rows.length >= 5 ? rows : null;
  });
  assert.deepEqual(
    commands.map((c: { line: string; verdict: string }) => [c.line, c.verdict]),
    [
      ['whoami', 'pass'],
      ['sudo -n id -u', 'pass'],
      ['mkdir -p /tmp/x && echo made', 'pass'],
      ['rm -rf /tmp/x', 'block'],
      ['test -d /tmp/x && echo still-there', 'pass'],
      ['exit', 'pass'],
    ].slice(0, commands.length),
  );
  assert.ok(session.recording_uri, 'recording stored');
  let text = '';
  for await (const item of createRecordings({ dir: ssh!.recordingDir }).read(session.recording_uri))
    if (item.type === 'event' && item.event[1] === 'o') text += item.event[2];
  assert.match(text, /whoami[\s\S]*alice[\s\S]*blocked by rule/);
  await api!.ctx.notifier.drain();
  assert.ok(
    mails.some((m) => /rule:     no deleting \/tmp\/x \(high\)/.test(m) && /command:  rm -rf \/tmp\/x/.test(m)),
    'alert e-mail sent',
  );
}

test(
  'an administrator ends a live session through jmp-api: it ends within 2 s and the person is back in the menu',
  { timeout: 60_000 },
  async (t) => {
    const { client } = await login(ssh!.port, 'dave', { password: 'dave password 12' });
    try {
      const sh = await shell(client);
      await sh.until(/\$ $/);
      sh.send('ssh h1\r');
      await sh.until(/dave@h1[^\n]*\$ (?:\x1b\[K)?$/, 20_000);
      const live = await until('a live session', () => api!.db('sessions').whereNull('ended_at').first('id'), 10_000);
      const t0 = Date.now();
      const r = await api!.call('POST', `/v1/sessions/${live.id}/terminate`, {
        auth: `Bearer ${api!.serviceToken('admin')}`,
        body: { reason: 'incident 7' },
      });
      assert.equal(r.status, 202);
      await sh.until(/this session was ended: incident 7[\s\S]*Back in jmp/, 5_000);
      const ms = Date.now() - t0;
      t.diagnostic(`terminated ${ms} ms after the request`);
      assert.ok(ms < 2000, `ended after ${ms} ms`);
      const row = await until(
        'ended in jmp-api',
        () => api!.db('sessions').where({ id: live.id }).whereNotNull('ended_at').first('end_reason'),
        5_000,
      );
      assert.equal(row.end_reason, 'terminated');
    } finally {
      client.end();
    }
  },
);

test(
  'many hops from one jmp-ssh login leave no listeners behind on the client channel',
  { timeout: 90_000 },
  async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);
    const { client } = await login(ssh!.port, 'dave', { password: 'dave password 12' });
    try {
      const sh = await shell(client);
      await sh.until(/\$ $/);
      // More hops than EventEmitter's default limit of 10 listeners per event.
      for (let i = 0; i < 12; i++) {
        sh.send(`ssh h1 echo hop-${i}\r`);
        await sh.until(new RegExp(`hop-${i}\\r?\\n[\\s\\S]*\\$ (?:\\x1b\\[K)?$`), 20_000);
      }
    } finally {
      client.end();
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => /MaxListeners/.test(w)),
      [],
    );
  },
);

test('an idle session is closed with a clear line', { timeout: 60_000 }, async () => {
  const idle = await startJmpSsh(api!, { idleTimeoutSeconds: 2 });
  const { client } = await login(idle.port, 'dave', { password: 'dave password 12' });
  try {
    const sh = await shell(client);
    await sh.until(/\$ $/);
    const closed = new Promise((r) => sh.ch.on('close', r));
    await sh.until(/jmp: idle for 2 seconds; disconnecting/, 6_000);
    await closed;
  } finally {
    client.end();
    await idle.close();
  }
});

test(
  'sessions per person hold across jmp-ssh instances: a second instance refuses the session over the limit with a clear line',
  { timeout: 60_000 },
  async () => {
    const one = await startJmpSsh(api!, { maxSessionsPerUser: 1 });
    const two = await startJmpSsh(api!, { maxSessionsPerUser: 1 });
    const a = await login(one.port, 'dave', { password: 'dave password 12' });
    const b = await login(two.port, 'dave', { password: 'dave password 12' });
    try {
      const shA = await shell(a.client);
      await shA.until(/\$ $/);
      shA.send('ssh h1\r');
      await shA.until(/dave@h1[^\n]*\$ (?:\x1b\[K)?$/, 20_000);
      const shB = await shell(b.client);
      await shB.until(/\$ $/);
      shB.send('ssh h1\r');
      await shB.until(/jmp: you have 1 sessions open; the limit is 1[\s\S]*\$ (?:\x1b\[K)?$/, 10_000);
      // Once the first ends, the second instance lets dave in.
      shA.send('exit\r');
      await shA.until(/Back in jmp/, 10_000);
      shB.send('ssh h1\r');
      await shB.until(/dave@h1[^\n]*\$ (?:\x1b\[K)?$/, 20_000);
      shB.send('exit\r');
      await shB.until(/Back in jmp/, 10_000);
    } finally {
      a.client.end();
      b.client.end();
      await one.close();
      await two.close();
    }
  },
);
