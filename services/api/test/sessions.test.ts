// Sessions as jmp-ssh reports them: rules per host, start/commands/end,
// notifications (real SMTP listener, real webhook receiver), live registry
// and ending a session, listings for auditors and owners.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startApi, addUser, addProject, addService, addHost, webLogin, type TestApi } from './harness.js';

let api: TestApi, smtp: SMTPServer, hook: http.Server;
const mails: Array<{ to: string[]; body: string }> = [];
const hooks: any[] = [];
let ssh: string, admin: string;
let alice: { id: number; username: string },
  host: { id: number; hostname: string },
  svc: { id: number },
  project: { id: number };

before(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, cb) {
      let body = '';
      stream.on('data', (d) => {
        body += d;
      });
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), body });
        cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  hook = http.createServer((req, res) => {
    let b = '';
    req.on('data', (d) => {
      b += d;
    });
    req.on('end', () => {
      hooks.push(JSON.parse(b));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  api = await startApi({
    env: {
      JMP_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      JMP_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
    },
  });
  ssh = `Bearer ${api.serviceToken('ssh')}`;
  admin = `Bearer ${api.serviceToken('admin')}`;
  project = await addProject(api.db);
  svc = await addService(api.db, project.id);
  host = await addHost(api.db, { service_id: svc.id });
  const leader = await addUser(api.db, { email: 'lead@example.test' });
  alice = await addUser(api.db, { email: 'alice@example.test', leader_id: leader.id, password: 'alice password 1' });
  await addUser(api.db, { email: 'root@example.test', is_admin: true });
});
after(async () => {
  await api.close();
  smtp.close();
  hook.close();
});

describe('guard rules for a host', () => {
  test('global, project and service rules; allow-list mode from service allow rules', async () => {
    const other = await addService(api.db, (await addProject(api.db)).id);
    await api.db('command_rules').insert([
      { name: 'global', pattern: 'rm -rf /', action: 'block' },
      { name: 'project', pattern: 'shutdown', action: 'block', scope_type: 'project', scope_id: project.id },
      { name: 'service', pattern: 'curl', action: 'alert', scope_type: 'service', scope_id: svc.id },
      { name: 'elsewhere', pattern: 'x', action: 'block', scope_type: 'service', scope_id: other.id },
      { name: 'disabled', pattern: 'y', action: 'block', enabled: false },
    ]);
    const r = await api.call('GET', `/v1/guard/rules?host=${host.hostname}`, { auth: ssh });
    assert.equal(r.status, 200);
    assert.equal(r.body.mode, 'deny-list');
    assert.deepEqual(
      r.body.rules.map((x: any) => x.name),
      ['global', 'project', 'service'],
    );
    await api.db('command_rules').insert({
      name: 'only ls',
      pattern: '^ls( |$)',
      action: 'block',
      list: 'allow',
      scope_type: 'service',
      scope_id: svc.id,
    });
    assert.equal(
      (await api.call('GET', `/v1/guard/rules?host=${host.hostname}`, { auth: ssh })).body.mode,
      'allow-list',
    );
    await api.db('command_rules').where({ name: 'only ls' }).del();
    assert.equal((await api.call('GET', '/v1/guard/rules?host=nowhere', { auth: ssh })).status, 404);
  });
});

describe('session lifecycle', () => {
  test('start, commands with verdicts, notifications, end; listed with commands', async () => {
    const id = randomUUID();
    assert.equal(
      (
        await api.call('POST', '/v1/sessions', {
          auth: ssh,
          body: { id, user: alice.username, host: host.hostname, sourceAddress: '192.0.2.7', instance: 'ssh-1' },
        })
      ).status,
      201,
    );
    const at = new Date().toISOString();
    const long = `echo ${'x'.repeat(10_000)}`;
    const r = await api.call('POST', `/v1/sessions/${id}/commands`, {
      auth: ssh,
      body: {
        commands: [
          { at, line: 'ls -la', verdict: 'pass' },
          {
            at,
            line: 'rm -rf /',
            verdict: 'block',
            ruleId: 1,
            ruleName: 'recursive delete of /',
            severity: 'critical',
          },
          { at, line: long, verdict: 'pass' },
        ],
      },
    });
    assert.equal(r.status, 201);
    await api.ctx.notifier.drain();
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0]!.to.sort(), ['alice@example.test', 'lead@example.test', 'root@example.test']);
    assert.match(mails[0]!.body, /Subject: \[jmp\] blocked: /);
    assert.match(mails[0]!.body, /rule:     recursive delete of \/ \(critical\)/);
    assert.match(mails[0]!.body, /command:  rm -rf \//);
    assert.equal(hooks.length, 1);
    assert.equal(hooks[0].verdict, 'block');
    assert.equal(hooks[0].line, 'rm -rf /');
    assert.equal((await api.db('audit_events').where({ action: 'command.block' })).length, 1);

    const { cookie } = await webLogin(api, alice.username, 'alice password 1');
    let detail = await api.call('GET', `/v1/sessions/${id}`, { headers: cookie });
    assert.equal(detail.status, 200);
    assert.equal(detail.body.session.live, true);
    assert.deepEqual(
      detail.body.commands.map((c: any) => c.verdict),
      ['pass', 'block', 'pass'],
    );
    assert.equal(detail.body.commands[2].line, long, 'commands are stored in full');

    assert.equal(
      (
        await api.call('POST', `/v1/sessions/${id}/end`, {
          auth: ssh,
          body: {
            bytesIn: 10,
            bytesOut: 2000,
            endReason: 'exit',
            recordingUri: `file:///rec/${new Date().toISOString().slice(0, 10)}/${id}`,
          },
        })
      ).status,
      204,
    );
    detail = await api.call('GET', `/v1/sessions/${id}`, { headers: cookie });
    assert.equal(detail.body.session.live, false);
    assert.equal(detail.body.session.endReason, 'exit');
    assert.equal(detail.body.session.bytesOut, 2000);

    const mine = await api.call('GET', '/v1/sessions?verdict=block', { headers: cookie });
    assert.deepEqual(
      mine.body.items.map((s: any) => s.id),
      [id],
    );
  });
  test('another person does not see my session; an auditor does', async () => {
    const id = randomUUID();
    await api.call('POST', '/v1/sessions', { auth: ssh, body: { id, user: alice.username, host: host.hostname } });
    const bob = await addUser(api.db, { password: 'bob password 12' });
    const erin = await addUser(api.db, { password: 'erin password 1', is_auditor: true });
    const b = await webLogin(api, bob.username, 'bob password 12');
    assert.equal((await api.call('GET', `/v1/sessions/${id}`, { headers: b.cookie })).status, 404);
    assert.equal((await api.call('GET', '/v1/sessions', { headers: b.cookie })).body.total, 0);
    const e = await webLogin(api, erin.username, 'erin password 1');
    assert.equal((await api.call('GET', `/v1/sessions/${id}`, { headers: e.cookie })).status, 200);
    assert.ok((await api.call('GET', `/v1/sessions?user=${alice.username}`, { headers: e.cookie })).body.total >= 2);
  });
  test('unknown user or host on start is a 400 naming the field', async () => {
    const r = await api.call('POST', '/v1/sessions', {
      auth: ssh,
      body: { id: randomUUID(), user: 'nobody', host: host.hostname },
    });
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /^body\.user: /);
  });
});

describe('live registry', () => {
  test('an administrator ends a live session: the next heartbeat names it', async () => {
    const id = randomUUID(),
      other = randomUUID();
    await api.call('POST', '/v1/sessions', {
      auth: ssh,
      body: { id, user: alice.username, host: host.hostname, instance: 'ssh-1' },
    });
    await api.call('POST', '/v1/sessions', {
      auth: ssh,
      body: { id: other, user: alice.username, host: host.hostname, instance: 'ssh-1' },
    });
    assert.deepEqual(
      (
        await api.call('POST', '/v1/sessions/heartbeat', {
          auth: ssh,
          body: { instance: 'ssh-1', sessions: [id, other] },
        })
      ).body,
      { end: [], watched: [] },
    );
    const t = await api.call('POST', `/v1/sessions/${id}/terminate`, { auth: admin, body: { reason: 'incident 42' } });
    assert.equal(t.status, 202);
    assert.deepEqual(
      (
        await api.call('POST', '/v1/sessions/heartbeat', {
          auth: ssh,
          body: { instance: 'ssh-1', sessions: [id, other] },
        })
      ).body,
      { end: [{ id, reason: 'incident 42' }], watched: [] },
    );
    await api.call('POST', `/v1/sessions/${id}/end`, {
      auth: ssh,
      body: { bytesIn: 0, bytesOut: 0, endReason: 'terminated' },
    });
    assert.equal((await api.call('POST', `/v1/sessions/${id}/terminate`, { auth: admin, body: {} })).status, 409);
    assert.equal(
      (await api.call('POST', `/v1/sessions/${other}/terminate`, { auth: ssh, body: {} })).status,
      401,
      'only administrators',
    );
    assert.equal((await api.db('audit_events').where({ action: 'session.terminate' })).length, 1);
  });
});

describe('sessions per person across instances', () => {
  test('the limit counts live sessions on every instance; an ended or silent one frees its place; concurrent starts cannot overshoot', async () => {
    const bob = await addUser(api.db);
    const start = (id: string, instance: string, max = 2) =>
      api.call('POST', '/v1/sessions', {
        auth: ssh,
        body: { id, user: bob.username, host: host.hostname, instance, maxPerUser: max },
      });
    const a = randomUUID(),
      b = randomUUID();
    assert.equal((await start(a, 'ssh-1')).status, 201);
    assert.equal((await start(b, 'ssh-2')).status, 201, 'a second instance');
    const third = await start(randomUUID(), 'ssh-1');
    assert.equal(third.status, 409);
    assert.match(third.body.error.message, /you have 2 sessions open; the limit is 2/);
    // Ending one frees a place.
    await api.call('POST', `/v1/sessions/${a}/end`, {
      auth: ssh,
      body: { bytesIn: 0, bytesOut: 0, endReason: 'exit' },
    });
    const c = randomUUID();
    assert.equal((await start(c, 'ssh-1')).status, 201);
    // A session whose instance stopped heartbeating (crashed) no longer counts once its live key expires.
    await api.ctx.store.del(`session-live:${b}`);
    assert.equal((await start(randomUUID(), 'ssh-2')).status, 201);
    // Ten instances starting at once with a limit of 5 for a fresh person: exactly 5 get in.
    const carol = await addUser(api.db);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.call('POST', '/v1/sessions', {
          auth: ssh,
          body: { id: randomUUID(), user: carol.username, host: host.hostname, instance: `ssh-${i}`, maxPerUser: 5 },
        }),
      ),
    );
    assert.deepEqual(results.map((r) => r.status).sort(), [...Array(5).fill(201), ...Array(5).fill(409)]);
    // Without maxPerUser (an older instance) nothing is counted.
    assert.equal(
      (
        await api.call('POST', '/v1/sessions', {
          auth: ssh,
          body: { id: randomUUID(), user: carol.username, host: host.hostname },
        })
      ).status,
      201,
    );
  });
});
