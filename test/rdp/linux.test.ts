// Linux desktops end to end: a lab host with the real jmp-agent, pam_jmp in
// xrdp-sesman's PAM stack (wired as the agent package wires it), xrdp with
// security=tls; jmp-rdp logs the person in with a compact one-time ticket as
// the RDP password. The agent allows xrdp-sesman and spends the ticket; the
// same ticket presented again is refused.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJumpStack, logSize, type JumpStack } from '../e2e/helpers.js';
import { prepareXrdp, startXrdp, xrdpLogs } from '../lab/xrdp.js';
import { webLogin } from '../../services/api/test/harness.js';
import { startRdp, openDesktop, sleep, type RunningRdp } from '../../services/rdp/test/stack.js';
import { wirePam } from '../../packaging/agent/wiring/pam-stack.js';
import { startGuacd, guacdSession, type RunningGuacd } from './guacd.js';

const PW = 'alice web password 1';
let stack: JumpStack, guacd: RunningGuacd, rdp: RunningRdp;
const work = mkdtempSync(join(tmpdir(), 'jmp-rdp-linux-'));

// The agent package's wiring of /etc/pam.d/xrdp-sesman; pam_jmp reads the lab host's pam.conf.
const sesmanPam = () =>
  wirePam(readFileSync('/etc/pam.d/xrdp-sesman', 'utf8'), 'xrdp-sesman', 'xrdp-sesman').replaceAll(
    'pam_jmp.so',
    'pam_jmp.so conf=/etc/jmp/pam.conf',
  );

before(async () => {
  stack = await startJumpStack({ hosts: ['h1'], prepare: (h) => prepareXrdp(h, { pamSesman: sesmanPam() }) });
  await startXrdp(stack.lab.host('h1'));
  await stack.addPerson({ username: 'alice', password: PW, right: 'login', host: 'h1' });
  await stack.syncHosts(['alice']);
  guacd = await startGuacd(join(work, 'guacd.log'));
  rdp = await startRdp(stack.api, guacd.port, { JMP_RDP_RECORDING_DIR: join(work, 'recordings') });
});
after(async () => {
  await rdp?.close();
  await guacd?.stop();
  await stack?.close();
});

const sesman = () => readFileSync(xrdpLogs(stack.lab.host('h1')).sesman, 'utf8');

describe('Linux desktop with pam_jmp', () => {
  test('the console opens h1: TLS, the compact ticket logs alice in, the agent allows xrdp-sesman', async () => {
    const h1 = stack.lab.host('h1');
    const from = logSize(h1);
    const sesmanFrom = sesman().length;
    const { cookie } = await webLogin(stack.api, 'alice', PW);
    const r = await stack.api.call('POST', '/v1/desktop/tokens', { headers: cookie, body: { host: 'h1' } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.credentials, 'ticket');
    const d = openDesktop(rdp.url, r.body.token, cookie.cookie);
    assert.equal(await d.status, 101);
    await d.waitFor(/(^|;)3\.img,/, 20_000);
    await sleep(3000);
    const log = sesman().slice(sesmanFrom);
    assert.match(log, /session.*alice|alice.*session/i, log);
    assert.doesNotMatch(log, /AUTHFAIL/);
    assert.match(readFileSync(xrdpLogs(h1).xrdp, 'utf8'), /selected \[SSL\]/);
    void from;
    // The agent asked jmp-api (online) for PAM service xrdp-sesman: allowed, bound to this desktop's session.
    const decided = await stack.api.db('audit_events').where({ action: 'pam.auth.allow', target: 'alice@h1' });
    assert.equal(decided.length, 1, JSON.stringify(decided));
    assert.equal(decided[0].data.service, 'xrdp-sesman');
    const row = await stack.api.db('sessions').where({ protocol: 'rdp' }).first('id');
    assert.equal(decided[0].data.session, row.id);
    d.ws.close();
    await d.closed;
  });

  test('a compact ticket presented a second time is refused', async () => {
    const t = await stack.api.call('POST', '/v1/tickets', {
      auth: `Bearer ${stack.api.serviceToken('rdp')}`,
      body: { user: 'alice', host: 'h1', format: 'compact' },
    });
    assert.equal(t.status, 201, JSON.stringify(t.body));
    assert.ok(t.body.ticket.length <= 200);
    const settings = {
      hostname: stack.lab.host('h1').address,
      port: '3389',
      username: 'alice',
      password: t.body.ticket,
      security: 'tls',
      'ignore-cert': 'true',
    };
    const allowedBefore = (await stack.api.db('audit_events').where({ action: 'pam.auth.allow', target: 'alice@h1' }))
      .length;
    let from = sesman().length;
    await guacdSession(guacd.port, settings, 5000);
    assert.doesNotMatch(sesman().slice(from), /AUTHFAIL/, 'first use logs in');
    from = sesman().length;
    await guacdSession(guacd.port, settings, 5000);
    assert.match(sesman().slice(from), /AUTHFAIL|authentication failed|login failed/i, 'second use is refused');
    const allowed = await stack.api.db('audit_events').where({ action: 'pam.auth.allow', target: 'alice@h1' });
    assert.equal(allowed.length - allowedBefore, 1, 'jmp-api allowed the ticket once');
  });
});
