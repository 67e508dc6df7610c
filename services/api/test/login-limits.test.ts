// Password and TOTP guessing limits that a burst of parallel requests cannot
// race: per person at most JMP_LOCKOUT_THRESHOLD guesses are verified, then
// the account is locked (even for the right password) until the lockout
// passes; per client address at most JMP_LOGIN_RATE_PER_MINUTE attempts.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startApi, addUser, type TestApi } from './harness.js';
import { newTotpSecret, totpCode, checkTotp } from '../src/crypto/totp.js';
import { TOTP_PURPOSE } from '../src/auth/login.js';

const THRESHOLD = 5;
const LOCK_SECONDS = 2;
const RATE = 8;
const PW = 'correct horse battery';
const env = {
  JMP_LOCKOUT_THRESHOLD: String(THRESHOLD),
  JMP_LOCKOUT_SECONDS: String(LOCK_SECONDS),
  JMP_LOGIN_RATE_PER_MINUTE: String(RATE),
};

let redisApi: TestApi;
let memoryApi: TestApi;
before(async () => {
  redisApi = await startApi({ env });
  memoryApi = await startApi({ env, redis: false });
});
after(async () => {
  await redisApi?.close();
  await memoryApi?.close();
});

let sourceNo = 0;
/** A fresh client address, so the per-address limit stays out of the per-person tests. */
const freshSource = () => {
  sourceNo++;
  return `10.${(sourceNo >> 8) & 255}.${sourceNo & 255}.7`;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Sends the burst, and the right answer once the burst has locked the account while most of it is still in flight. */
async function burst(
  api: TestApi,
  username: string,
  wrong: () => Promise<number>,
  right: () => Promise<{ status: number; body: any }>,
) {
  const flight = Array.from({ length: 40 }, () => wrong());
  await until(
    'the burst to fill the lockout counter',
    async () => Number(await api.ctx.store.get(`authfail:${username}`)) >= THRESHOLD,
  );
  const rightAnswer = await right();
  const statuses = await Promise.all(flight);
  return { statuses, rightAnswer };
}

const count = (xs: number[], v: number) => xs.filter((x) => x === v).length;

for (const [storeName, pick] of [
  ['redis', () => redisApi],
  ['memory', () => memoryApi],
] as const) {
  describe(`lockout cannot be raced (${storeName} store)`, () => {
    test('40 parallel wrong passwords: at most the threshold are verified; the right one in the burst is refused, then allowed after the lockout', async () => {
      const api = pick();
      const ssh = `Bearer ${api.serviceToken('ssh')}`;
      const u = await addUser(api.db, { password: PW });
      const call = (password: string) =>
        api.call('POST', '/v1/auth/ssh', {
          auth: ssh,
          body: { method: 'password', username: u.username, password, source: freshSource() },
        });
      const { statuses, rightAnswer } = await burst(
        api,
        u.username,
        async () => (await call('wrong password')).status,
        () => call(PW),
      );
      assert.equal(count(statuses, 401), THRESHOLD, `verified guesses: ${JSON.stringify(statuses)}`);
      assert.equal(count(statuses, 423), 40 - THRESHOLD);
      assert.equal(rightAnswer.status, 423, JSON.stringify(rightAnswer.body));
      assert.match(rightAnswer.body.error.message, /too many failed logins.*try again in 1 minute/);
      const failed = await api.db('audit_events').where({ action: 'auth.failed', target: u.username });
      assert.equal(failed.length, THRESHOLD);
      assert.equal((await api.db('audit_events').where({ action: 'auth.locked', target: u.username })).length, 1);
      assert.equal(
        (await api.db('audit_events').where({ action: 'auth.refused', target: u.username })).length,
        1,
        'refusals are audited once per lockout',
      );
      await sleep(LOCK_SECONDS * 1000 + 200);
      const later = await call(PW);
      assert.equal(later.status, 200, JSON.stringify(later.body));
      // Success resets: a full threshold of new guesses is allowed again.
      for (let i = 0; i < THRESHOLD; i++) assert.equal((await call('wrong again')).status, 401);
      assert.equal((await call(PW)).status, 423);
    });
  });
}

describe('TOTP codes cannot be raced either (web login)', () => {
  test('40 parallel wrong codes with the right password: at most the threshold are verified; the right code is refused, then allowed', async () => {
    const api = redisApi;
    const secret = newTotpSecret();
    const u = await addUser(api.db, { password: PW, totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE) });
    const wrongCode = () => {
      for (;;) {
        const c = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
        if (!checkTotp(c, secret)) return c;
      }
    };
    // The web login's source is the client address; a trusted (loopback) proxy gives it in X-Forwarded-For.
    const web = (totp: string) =>
      api.call('POST', '/v1/auth/web', {
        body: { username: u.username, password: PW, totp },
        headers: { 'x-forwarded-for': freshSource() },
      });
    const { statuses, rightAnswer } = await burst(
      api,
      u.username,
      async () => (await web(wrongCode())).status,
      () => web(totpCode(secret)),
    );
    assert.equal(count(statuses, 401), THRESHOLD, JSON.stringify(statuses));
    assert.equal(count(statuses, 423), 40 - THRESHOLD);
    assert.equal(rightAnswer.status, 423);
    assert.match(rightAnswer.body.error.message, /too many failed logins/);
    await sleep(LOCK_SECONDS * 1000 + 200);
    const later = await web(totpCode(secret));
    assert.equal(later.status, 200, JSON.stringify(later.body));
  });

  test('the password step of a TOTP login (code still to come) does not count as a failure', async () => {
    const api = redisApi;
    const ssh = `Bearer ${api.serviceToken('ssh')}`;
    const secret = newTotpSecret();
    const u = await addUser(api.db, { password: PW, totp_secret_enc: api.ctx.secrets.seal(secret, TOTP_PURPOSE) });
    const body = { method: 'password', username: u.username, password: PW };
    for (let i = 0; i < THRESHOLD + 3; i++) {
      const r = await api.call('POST', '/v1/auth/ssh', { auth: ssh, body: { ...body, source: freshSource() } });
      assert.equal(r.body.error.code, 'totp_required');
    }
    const ok = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { ...body, totp: totpCode(secret), source: freshSource() },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });
});

describe('per client address', () => {
  test('password spraying over many usernames from one address is limited; other addresses are not', async () => {
    const api = redisApi;
    const ssh = `Bearer ${api.serviceToken('ssh')}`;
    const victim = await addUser(api.db, { password: PW });
    const source = '192.0.2.99';
    const attempts = await Promise.all(
      Array.from({ length: RATE + 10 }, (_, i) =>
        api.call('POST', '/v1/auth/ssh', {
          auth: ssh,
          body: { method: 'password', username: `spray${i}`, password: 'Summer2026!', source },
        }),
      ),
    );
    assert.equal(
      count(
        attempts.map((a) => a.status),
        401,
      ),
      RATE,
      'only the limit is verified',
    );
    assert.equal(
      count(
        attempts.map((a) => a.status),
        429,
      ),
      10,
    );
    const right = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: victim.username, password: PW, source },
    });
    assert.equal(right.status, 429);
    assert.match(right.body.error.message, /^too many login attempts from 192\.0\.2\.99; try again in \d+ seconds?$/);
    assert.equal((await api.db('audit_events').where({ action: 'auth.rate_limited', target: source })).length, 1);
    const elsewhere = await api.call('POST', '/v1/auth/ssh', {
      auth: ssh,
      body: { method: 'password', username: victim.username, password: PW, source: '192.0.2.100' },
    });
    assert.equal(elsewhere.status, 200);
  });

  test('logins that guess nothing wrong give their slot back: many people behind one address', async () => {
    const api = redisApi;
    const headers = { 'x-forwarded-for': '203.0.113.5' };
    const people = await Promise.all(Array.from({ length: 3 }, () => addUser(api.db, { password: PW })));
    for (let i = 0; i < RATE * 2; i++) {
      const r = await api.call('POST', '/v1/auth/web', {
        body: { username: people[i % 3]!.username, password: PW },
        headers,
      });
      assert.equal(r.status, 200, `login ${i}: ${JSON.stringify(r.body)}`);
    }
  });

  test('the web login is limited by the client address', async () => {
    const api = redisApi;
    const headers = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < RATE; i++) {
      const r = await api.call('POST', '/v1/auth/web', {
        body: { username: `webspray${i}`, password: 'nope' },
        headers,
      });
      assert.equal(r.status, 401);
    }
    const r = await api.call('POST', '/v1/auth/web', { body: { username: 'webspray0', password: 'nope' }, headers });
    assert.equal(r.status, 429);
    assert.match(r.body.error.message, /too many login attempts from 198\.51\.100\.7/);
  });
});
