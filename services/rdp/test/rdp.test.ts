// jmp-rdp against a real jmp-api and a fake guacd that checks the handshake:
// what reaches guacd (and what never does), and guacamole-lite's faults.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, type TestApi } from '../../api/test/harness.js';
import { startFakeGuacd, ARG_NAMES, type FakeGuacd } from './fake-guacd.js';
import { startRdp, person, openDesktop, instr, sleep, type RunningRdp } from './stack.js';
import { sealDesktopToken } from '../../api/src/desktop/token.js';
import { rdpConfigSpec } from '../src/config.js';
import { loadConfig, createLogger } from '@jmp/runtime';
import { createLite } from '../src/guac/lite.js';

let api: TestApi;
let guacd: FakeGuacd;
let rdp: RunningRdp;
before(async () => {
  api = await startApi();
  guacd = await startFakeGuacd();
  rdp = await startRdp(api, guacd.port, { JMP_RDP_MAX_PER_USER: '3' });
});
after(async () => {
  await rdp.close();
  await guacd.close();
  await api.close();
});

const sessionRow = (id: string) => api.db('sessions').where({ id }).first();
/** The person's desktop session row once it has ended. */
const endedRow = (username: string, ms = 5000) =>
  until(
    () =>
      api
        .db('sessions')
        .join('users', 'users.id', 'sessions.user_id')
        .where({ 'users.username': username })
        .whereNotNull('ended_at')
        .first('end_reason'),
    ms,
  );
async function until(f: () => Promise<unknown>, ms = 5000): Promise<any> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(50);
  }
}

describe('Linux desktop: compact ticket as the RDP password', () => {
  test('guacd gets select rdp, then every asked argument in its order; the password is a fresh compact ticket', async () => {
    const p = await person(api);
    const before = guacd.handshakes.length;
    const d = openDesktop(rdp.url, await p.token(), p.cookie, '&width=1280&height=720');
    assert.equal(await d.status, 101);
    await d.waitFor(/^4\.sync,/);
    const hs = guacd.handshakes[before]!;
    assert.equal(hs.select, 'rdp');
    assert.deepEqual(hs.opcodes.slice(0, 7), ['select', 'size', 'audio', 'video', 'image', 'timezone', 'connect']);
    assert.equal(hs.version, 'VERSION_1_1_0');
    assert.equal(hs.connect.length, ARG_NAMES.length);
    assert.equal(hs.byName.hostname, '10.99.0.5');
    assert.equal(hs.byName.port, '3389');
    assert.equal(hs.byName.username, p.u.username);
    assert.equal(hs.byName.security, 'tls');
    assert.equal(hs.byName.width, '1280');
    assert.equal(hs.byName['disable-copy'], 'true', 'clipboard is off on a production host');
    assert.ok(hs.byName.password!.length <= 200, `ticket of ${hs.byName.password!.length} characters`);
    assert.notEqual(hs.byName.password, '');
    // The ticket was fetched from jmp-api (async) after the upgrade request: it is the one jmp-api issued.
    const issued = await api
      .db('audit_events')
      .where({ action: 'ticket.issued', target: `${p.u.username}@${p.h.hostname}` });
    assert.equal(issued.length, 1);
    // Registered like an ssh session: protocol rdp, live.
    const rows = await api.db('sessions').where({ protocol: 'rdp' }).whereNull('ended_at');
    assert.ok(rows.length >= 1);
    d.ws.close();
    await d.closed;
  });

  test('clipboard per service: off on production hosts by default, on for a non-production host or when the service allows it', async () => {
    const p = await person(api);
    await api.db('hosts').where({ id: p.h.id }).update({ state: 'offline' });
    const before = guacd.handshakes.length;
    const d = openDesktop(rdp.url, await p.token(), p.cookie);
    await d.waitFor(/^4\.sync,/);
    assert.equal(guacd.handshakes[before]!.byName['disable-copy'], '', 'clipboard on for a non-production host');
    assert.equal(guacd.handshakes[before]!.byName['enable-drive'], '', 'no drive unless the service allows it');
    d.ws.close();
    await d.closed;
  });

  test('a replayed, foreign, expired or garbled token is refused before the upgrade and never reaches guacd', async () => {
    const p = await person(api);
    const q = await person(api);
    const token = await p.token();
    const ok = openDesktop(rdp.url, token, p.cookie);
    assert.equal(await ok.status, 101);
    await ok.waitFor(/^4\.sync,/);
    const seen = guacd.connections;
    const replay = openDesktop(rdp.url, token, p.cookie);
    assert.equal(await replay.status, 401);
    const foreign = openDesktop(rdp.url, await p.token(), q.cookie);
    assert.equal(await foreign.status, 403);
    const claims = { jti: 'y'.repeat(22), uid: p.u.id, user: p.u.username, hostId: p.h.id, exp: Date.now() - 1 };
    const expired = openDesktop(rdp.url, sealDesktopToken(api.ctx.secrets.desktopKey, p.h.hostname, claims), p.cookie);
    assert.equal(await expired.status, 401);
    const garbled = openDesktop(rdp.url, 'Zm9v', p.cookie);
    assert.equal(await garbled.status, 401);
    const noCookie = openDesktop(rdp.url, await p.token(), '');
    assert.equal(await noCookie.status, 401);
    await sleep(200);
    assert.equal(guacd.connections, seen, 'a refused token never opened a guacd connection');
    ok.ws.close();
  });

  test('a right revoked after the token was issued is refused before guacd', async () => {
    const p = await person(api);
    const token = await p.token();
    await api.db('grants').where({ subject_id: p.u.id }).update({ revoked_at: new Date() });
    const seen = guacd.connections;
    const d = openDesktop(rdp.url, token, p.cookie);
    assert.equal(await d.status, 403);
    assert.equal(guacd.connections, seen);
  });

  test('100 parallel opens by one person: at most the limit reach guacd, the rest are refused with 429', async () => {
    const p = await person(api);
    const tokens = await Promise.all(Array.from({ length: 100 }, () => p.token()));
    const seen = guacd.connections;
    const opens = tokens.map((t) => openDesktop(rdp.url, t, p.cookie));
    const statuses = await Promise.all(opens.map((o) => o.status));
    const upgraded = statuses.filter((s) => s === 101).length;
    assert.ok(upgraded >= 1 && upgraded <= 3, `${upgraded} upgraded`);
    assert.equal(statuses.filter((s) => s === 429).length, 100 - upgraded);
    await sleep(300);
    assert.ok(guacd.connections - seen <= 3, `${guacd.connections - seen} guacd connections`);
    for (const o of opens) o.ws.close();
    await Promise.all(opens.filter((_o, i) => statuses[i] === 101).map((o) => o.closed));
  });

  test('an administrator ends a desktop: the page is told and the socket closes within 2 s', async () => {
    const p = await person(api);
    const d = openDesktop(rdp.url, await p.token(), p.cookie);
    await d.waitFor(/^4\.sync,/);
    const row = await until(() =>
      api
        .db('sessions')
        .join('users', 'users.id', 'sessions.user_id')
        .where({ 'users.username': p.u.username })
        .whereNull('ended_at')
        .first('sessions.id'),
    );
    const t0 = Date.now();
    const r = await api.call('POST', `/v1/sessions/${row.id}/terminate`, {
      auth: `Bearer ${api.serviceToken('admin')}`,
      body: { reason: 'incident 7' },
    });
    assert.equal(r.status, 202);
    await d.closed;
    assert.ok(Date.now() - t0 < 2000, `closed after ${Date.now() - t0} ms`);
    assert.ok(d.messages.some((m) => m.includes('incident 7')));
    const ended = await until(async () => (await sessionRow(row.id))?.ended_at && sessionRow(row.id));
    assert.equal(ended.end_reason, 'terminated');
  });
});

describe('Windows desktop: typed credentials', () => {
  test('non-ASCII credentials reach guacd byte-exact and appear in no log, row or audit event', async () => {
    const p = await person(api, { kind: 'windows' });
    const before = guacd.handshakes.length;
    const d = openDesktop(rdp.url, await p.token(), p.cookie);
    assert.equal(await d.status, 101);
    await d.waitFor(/^0\.,/); // the tunnel opens: the page may send now
    const user = 'Jürgen.Ærø';
    const domain = 'ÖSTERREICH';
    const password = 'pä$$wörd€😀,;.7';
    d.ws.send(instr('jmp-login', user, domain, password));
    await d.waitFor(/^4\.sync,/);
    const hs = guacd.handshakes[before]!;
    assert.deepEqual(hs.connectBytes[ARG_NAMES.indexOf('username')], Buffer.from(user));
    assert.deepEqual(hs.connectBytes[ARG_NAMES.indexOf('domain')], Buffer.from(domain));
    assert.deepEqual(hs.connectBytes[ARG_NAMES.indexOf('password')], Buffer.from(password));
    assert.equal(hs.byName.security, 'any');
    d.ws.close();
    await d.closed;
    await sleep(300);
    const logs = rdp.logs.join('');
    assert.ok(logs.length > 0);
    for (const secret of [password, 'pä$$wörd']) {
      assert.ok(!logs.includes(secret), 'password in the log');
      const dump = JSON.stringify([await api.db('sessions'), await api.db('audit_events')]);
      assert.ok(!dump.includes(secret), 'password in the database');
    }
  });

  test('a page that sends no valid credentials never reaches guacd', async () => {
    const p = await person(api, { kind: 'windows' });
    const seen = guacd.connections;
    const d = openDesktop(rdp.url, await p.token(), p.cookie);
    await d.waitFor(/^0\.,/);
    d.ws.send('not an instruction');
    await d.closed;
    assert.equal(guacd.connections, seen);
  });
});

describe("guacamole-lite's faults", () => {
  test('its SIGINT/SIGTERM handlers are removed (jmp drains instead)', () => {
    const term = process.listenerCount('SIGTERM');
    const int = process.listenerCount('SIGINT');
    const config = loadConfig(rdpConfigSpec, { JMP_SERVICE_TOKEN: 'x'.repeat(32) });
    const lite = createLite({
      guacd: config.guacd,
      maxPayload: 1024,
      guacdIdleMs: 1000,
      log: createLogger('t', 'silent'),
    });
    assert.ok(lite.wss);
    assert.equal(process.listenerCount('SIGTERM'), term);
    assert.equal(process.listenerCount('SIGINT'), int);
  });

  test('a guacd silent for more than 10 s is not dropped (the bound is JMP_RDP_GUACD_IDLE_SECONDS)', async () => {
    const silent = await startFakeGuacd({ silent: true });
    const r = await startRdp(api, silent.port, { JMP_RDP_GUACD_IDLE_SECONDS: '60' });
    const realNow = Date.now;
    try {
      const p = await person(api);
      const d = openDesktop(r.url, await p.token(), p.cookie);
      await d.waitFor(/^0\.,/);
      // guacamole-lite's own check compares Date.now() with its last activity + 10 s, every second.
      const skew = 11_000;
      Date.now = () => realNow() + skew;
      await sleep(1500);
      assert.equal(d.ws.readyState, d.ws.OPEN, 'still open 11 s (skewed) after guacd last spoke');
      Date.now = realNow;
      d.ws.close();
      await d.closed;
    } finally {
      Date.now = realNow;
      await r.close();
      await silent.close();
    }
  });

  test('the bound still ends a desktop whose guacd went silent, with a reason', async () => {
    const silent = await startFakeGuacd({ silent: true });
    const r = await startRdp(api, silent.port, { JMP_RDP_GUACD_IDLE_SECONDS: '1' });
    try {
      const p = await person(api);
      const d = openDesktop(r.url, await p.token(), p.cookie);
      await d.waitFor(/^0\.,/);
      await d.closed;
      const row = await endedRow(p.u.username);
      assert.equal(row.end_reason, 'guacd_silent');
    } finally {
      await r.close();
      await silent.close();
    }
  });

  test('a UTF-8 character split across two reads from guacd reaches the page whole', async () => {
    const g = await startFakeGuacd({ splitUtf8: 'Bürodesktop €' });
    const r = await startRdp(api, g.port);
    try {
      const p = await person(api);
      const d = openDesktop(r.url, await p.token(), p.cookie);
      const m = await d.waitFor(/4\.name,/);
      assert.ok(m.includes('13.Bürodesktop €;'), m);
      d.ws.close();
    } finally {
      await r.close();
      await g.close();
    }
  });
});

describe('bad input', () => {
  test('guacd down: the page gets a clear message and the session row says why', async () => {
    const g = await startFakeGuacd();
    const port = g.port;
    await g.close();
    const r = await startRdp(api, port);
    try {
      const p = await person(api);
      const d = openDesktop(r.url, await p.token(), p.cookie);
      const m = await d.waitFor(/^5\.error,/);
      assert.match(m, /Desktop service unavailable/);
      const row = await endedRow(p.u.username);
      assert.equal(row.end_reason, 'guacd_unavailable');
    } finally {
      await r.close();
    }
  });

  test('a page that stops reading: guacd is paused at the bound, and the desktop ends after the stall bound', async () => {
    const g = await startFakeGuacd({ floodBytes: 200 * 1024 * 1024 });
    const r = await startRdp(api, g.port, {
      JMP_RDP_CLIENT_BUFFER_BYTES: String(256 * 1024),
      JMP_RDP_CLIENT_STALL_SECONDS: '1',
    });
    try {
      const p = await person(api);
      const d = openDesktop(r.url, await p.token(), p.cookie);
      await d.waitFor(/^0\.,/);
      // The page stops reading its socket.
      (d.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const row = await endedRow(p.u.username, 10_000);
      assert.equal(row.end_reason, 'client_stalled');
      // What guacd could send is bounded by the buffer bound plus the kernel's socket buffers, far below the flood.
      assert.ok(g.flooded < 32 * 1024 * 1024, `guacd sent ${g.flooded} bytes`);
    } finally {
      await r.close();
      await g.close();
    }
  });
});
