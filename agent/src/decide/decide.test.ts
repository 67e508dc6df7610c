// Offline ticket verification, the spent-jti set, and the online → offline
// fallback of the decider (with a scripted jmp-api).
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiError } from '@jmp/contract';
import type { AgentApi } from '../api/client.js';
import { ApiHealth } from '../api/health.js';
import { uptime } from 'node:os';
import { DiskHealth } from '../persist/disk.js';
import { realFs } from '../persist/fs.js';
import { PolicyStore } from '../policy/store.js';
import { Decider, DENIAL_OUTLIVES_PULL_MS } from './decider.js';
import { bootedAtS, decideOffline } from './offline.js';
import { SpentJtiStore } from './spent.js';
import { verifyTicketOffline } from './ticket.js';
import { decisionState, mintTicket, silentLog, snapshot, ticketKey, tmpDir } from '../../test/fixtures.js';

const HOST = 7;
const key = ticketKey('k1');
const other = ticketKey('k2');
const keys = new Map([[key.kid, createPublicKey(key.publicKeyPem)]]);
const keyFor = (kid: string) => keys.get(kid);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('offline ticket verification', () => {
  test('a good ticket verifies and yields its jti and expiry', () => {
    const r = verifyTicketOffline(mintTicket(key, { user: 'alice', hostId: HOST, jti: 'j-1' }), 'alice', HOST, keyFor);
    assert.ok(r.ok);
    assert.equal(r.jti, 'j-1');
  });
  test('wrong audience, wrong subject, expired, bad signature, unknown kid, wrong issuer, overlong lifetime, garbage', () => {
    const no = (t: string, reason: RegExp) => {
      const r = verifyTicketOffline(t, 'alice', HOST, keyFor);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, reason);
    };
    no(mintTicket(key, { user: 'alice', hostId: 8 }), /another host/);
    no(mintTicket(key, { user: 'bob', hostId: HOST }), /another user/);
    no(mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: -120, ttl: 60 }), /expired/);
    // signed by another key but claiming k1
    no(mintTicket(other, { user: 'alice', hostId: HOST, kid: 'k1' }), /signature is invalid/);
    no(mintTicket(other, { user: 'alice', hostId: HOST }), /unknown key/);
    no(mintTicket(key, { user: 'alice', hostId: HOST, iss: 'evil' }), /not from jmp-api/);
    no(mintTicket(key, { user: 'alice', hostId: HOST, ttl: 3600 }), /malformed/);
    no('not-a-jwt', /malformed/);
    const t = mintTicket(key, { user: 'alice', hostId: HOST });
    const [h, p] = t.split('.');
    no(`${h}.${p}.AAAA`, /signature is invalid/);
  });
  test('a ticket issued in the future (beyond 30 s of skew) or expiring beyond 60 s + skew is refused', () => {
    const no = (t: string, reason: RegExp) => {
      const r = verifyTicketOffline(t, 'alice', HOST, keyFor);
      assert.equal(r.ok, false, String(reason));
      assert.match((r as { reason: string }).reason, reason);
    };
    no(mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: 120, ttl: 60 }), /issued in the future/);
    no(mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: 31, ttl: 10 }), /issued in the future/);
    // a lifetime of 60 s that only ends in an hour: issued an hour ahead
    no(
      mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: 3540, ttl: 60 }),
      /issued in the future|too far in the future/,
    );
    const now = Math.floor(Date.now() / 1000);
    assert.ok(
      verifyTicketOffline(
        mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: 20, ttl: 30 }),
        'alice',
        HOST,
        keyFor,
        now * 1000,
      ).ok,
      'within the skew',
    );
  });
  test('within the 2 s clock tolerance an expired ticket still verifies, beyond it not', () => {
    const t = mintTicket(key, { user: 'alice', hostId: HOST, ttl: 10 });
    const exp = (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    assert.ok(verifyTicketOffline(t, 'alice', HOST, keyFor, exp * 1000 + 1000).ok);
    assert.equal(verifyTicketOffline(t, 'alice', HOST, keyFor, exp * 1000 + 3000).ok, false);
  });
});

function world() {
  const dir = tmpDir();
  dirs.push(dir);
  return decisionState(
    dir,
    snapshot({
      hostId: HOST,
      keys: [key],
      users: [
        { username: 'alice', login: true, root: true },
        { username: 'bob', login: true, root: false },
      ],
    }),
  );
}

describe('offline decisions from the snapshot', () => {
  test('rights: auth needs ticket + login, account = login, every sudo = root right, su to self = login', () => {
    const w = world();
    const ctx = { hostId: HOST, hostname: 'web-01', policy: w.policy, spent: w.spent, bootedAtS: bootedAtS() };
    assert.equal(
      decideOffline({ op: 'auth', user: 'alice', ticket: mintTicket(key, { user: 'alice', hostId: HOST }) }, ctx).allow,
      true,
    );
    assert.equal(
      decideOffline({ op: 'auth', user: 'carol', ticket: mintTicket(key, { user: 'carol', hostId: HOST }) }, ctx).allow,
      false,
    );
    assert.equal(decideOffline({ op: 'account', user: 'bob' }, ctx).allow, true);
    assert.equal(decideOffline({ op: 'account', user: 'carol' }, ctx).allow, false);
    assert.equal(decideOffline({ op: 'sudo', user: 'alice', runas: 'root' }, ctx).allow, true);
    assert.equal(decideOffline({ op: 'sudo', user: 'bob', runas: 'root' }, ctx).allow, false);
    assert.equal(
      decideOffline({ op: 'sudo', user: 'bob', runas: 'bob' }, ctx).allow,
      false,
      'sudo names the invoking user as runas',
    );
    assert.equal(decideOffline({ op: 'su', user: 'bob', runas: 'bob' }, ctx).allow, true);
    assert.equal(decideOffline({ op: 'su', user: 'bob', runas: 'alice' }, ctx).allow, false);
    assert.equal(decideOffline({ op: 'session_open', user: 'carol' }, ctx).allow, true);
  });

  test('replay after offline use is refused; the spent set survives a restart', () => {
    const w = world();
    const ctx = { hostId: HOST, hostname: 'web-01', policy: w.policy, spent: w.spent, bootedAtS: bootedAtS() };
    const t = mintTicket(key, { user: 'alice', hostId: HOST });
    assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t }, ctx).allow, true);
    const again = decideOffline({ op: 'auth', user: 'alice', ticket: t }, ctx);
    assert.deepEqual(again, { allow: false, reason: 'ticket has already been used (offline)' });
    // a new process: a fresh store reading the same file
    const reborn = new SpentJtiStore(join(w.dir, 'spent-jti'), new DiskHealth(silentLog));
    reborn.load();
    assert.equal(reborn.size, 1);
    assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t }, { ...ctx, spent: reborn }).allow, false);
  });

  test('offline, a ticket issued before the machine last started is refused (its spent record may have died with the page cache)', () => {
    const w = world();
    const now = Math.floor(Date.now() / 1000);
    const t = mintTicket(key, { user: 'alice', hostId: HOST, iatOffset: -20, ttl: 60 });
    const ctx = { hostId: HOST, hostname: 'web-01', policy: w.policy, spent: w.spent };
    assert.deepEqual(decideOffline({ op: 'auth', user: 'alice', ticket: t }, { ...ctx, bootedAtS: now - 10 }), {
      allow: false,
      reason: 'ticket was issued before this host last started (offline)',
    });
    assert.equal(
      decideOffline({ op: 'auth', user: 'alice', ticket: t }, { ...ctx, bootedAtS: now - 3600 }).allow,
      true,
      'issued long after the boot: allowed',
    );
    assert.ok(Math.abs(bootedAtS() - (now - Math.floor(uptime()))) <= 2, 'boot time from the uptime');
  });

  test('the spent set is appended without fsync (the page cache outlives the agent)', () => {
    const w = world();
    let syncs = 0;
    const counting = {
      ...realFs,
      fdatasyncSync: (fd: number) => {
        syncs++;
        realFs.fdatasyncSync(fd);
      },
      fsyncSync: (fd: number) => {
        syncs++;
        realFs.fsyncSync(fd);
      },
    };
    const s = new SpentJtiStore(join(w.dir, 'spent-c'), w.disk, counting);
    for (let i = 0; i < 10; i++) assert.equal(s.add(`k${i}`, Math.floor(Date.now() / 1000) + 30), true);
    assert.equal(syncs, 0);
    const again = new SpentJtiStore(join(w.dir, 'spent-c'), w.disk);
    again.load();
    assert.equal(again.size, 10);
  });

  test('expired entries are pruned and compacted away; a torn last line is ignored', async () => {
    const w = world();
    let now = 1_000_000;
    const s = new SpentJtiStore(join(w.dir, 'spent-b'), w.disk, undefined, () => now);
    for (let i = 0; i < 3000; i++) s.add(`j${i}`, now + 10);
    now += 100; // all expired (exp + 60 s)
    s.add('fresh', now + 30);
    s.prune();
    assert.equal(s.size, 1);
    const { readFileSync, appendFileSync } = await import('node:fs');
    assert.equal(readFileSync(join(w.dir, 'spent-b'), 'utf8').trim().split('\n').length, 1, 'compacted');
    appendFileSync(join(w.dir, 'spent-b'), '99999999 ha/'); // torn mid-write: not a valid line
    const again = new SpentJtiStore(join(w.dir, 'spent-b'), w.disk, undefined, () => now);
    again.load();
    assert.ok(again.has('fresh'));
    assert.equal(again.size, 1);
  });
});

describe('decider: online first, then offline, then the default', () => {
  function decider(
    w: ReturnType<typeof world>,
    answer: () => Promise<{ allow: boolean; reason: string }>,
    opts: { enrolled?: boolean; snapshot?: boolean } = {},
  ) {
    const api = { pamDecide: answer } as unknown as AgentApi;
    const health = new ApiHealth();
    const policy =
      opts.snapshot === false
        ? new PolicyStore(
            { policy: join(w.dir, 'p2'), passwd: join(w.dir, 'pw2'), group: join(w.dir, 'g2') },
            1000,
            w.disk,
            silentLog,
          )
        : w.policy;
    return {
      health,
      d: new Decider({
        target: () => (opts.enrolled === false ? null : { api, hostId: HOST, hostname: 'web-01' }),
        health,
        policy,
        spent: w.spent,
        events: w.events,
        noSnapshot: () => 'deny',
        log: silentLog,
      }),
    };
  }
  const down = () => Promise.reject(new ApiError('unavailable', 'jmp-api did not answer: connect ECONNREFUSED', 0));

  test('online answers are used as they are (mode online)', async () => {
    const w = world();
    const { d, health } = decider(w, async () => ({ allow: false, reason: 'no login right for alice on web-01' }));
    assert.deepEqual(await d.decide({ op: 'account', user: 'alice' }), {
      allow: false,
      reason: 'no login right for alice on web-01',
      mode: 'online',
    });
    assert.equal(health.state, 'up');
  });

  test('a ticket used online cannot be replayed offline', async () => {
    const w = world();
    let apiUp = true;
    const { d, health } = decider(w, () => (apiUp ? Promise.resolve({ allow: true, reason: 'ok' }) : down()));
    const t = mintTicket(key, { user: 'alice', hostId: HOST });
    assert.equal((await d.decide({ op: 'auth', user: 'alice', ticket: t })).mode, 'online');
    apiUp = false;
    health.down('connect ECONNREFUSED');
    assert.deepEqual(await d.decide({ op: 'auth', user: 'alice', ticket: t }), {
      allow: false,
      reason: 'ticket has already been used (offline)',
      mode: 'offline',
    });
    const fresh = mintTicket(key, { user: 'alice', hostId: HOST });
    assert.deepEqual((await d.decide({ op: 'auth', user: 'alice', ticket: fresh })).allow, true);
  });

  test('only no answer, a gateway error or the 503 outage marker count as down; a 500, 429, garbage or 4xx is a denial', async () => {
    const w = world();
    for (const [err, mode] of [
      [new ApiError('unavailable', 'jmp-api did not answer: connect ECONNREFUSED', 0), 'offline'],
      [new ApiError('unavailable', 'the database is unavailable; try again shortly', 503, true), 'offline'],
      [new ApiError('unavailable', 'jmp-api answered 502', 502), 'offline'],
      [new ApiError('unavailable', 'jmp-api answered 504', 504), 'offline'],
      [new ApiError('internal', 'internal error', 500), 'online'],
      [new ApiError('unavailable', 'jmp-api answered 503', 503), 'online'],
      [new ApiError('too_many_requests', 'slow down', 429), 'online'],
      [new ApiError('unavailable', 'jmp-api answered 200 with a body that is not JSON', 200), 'online'],
      [new Error('socket hang up'), 'online'],
      [new ApiError('unauthorized', 'a valid host token is required', 401), 'online'],
    ] as const) {
      const { d, health } = decider(w, () => Promise.reject(err));
      const r = await d.decide({ op: 'sudo', user: 'alice', runas: 'root' });
      assert.equal(r.mode, mode, err.message);
      assert.equal(r.allow, mode === 'offline', err.message);
      assert.equal(health.state, mode === 'offline' ? 'down' : 'up', err.message);
      if (mode === 'online' && !(err instanceof ApiError && err.httpStatus === 401))
        assert.match(r.reason, /^jmp-api could not decide: /);
    }
  });

  test('a ticket spent offline is refused online without asking jmp-api, and reported with the offline decision', async () => {
    const w = world();
    let apiUp = false;
    let asked = 0;
    const { d, health } = decider(w, () => {
      asked++;
      return apiUp ? Promise.resolve({ allow: true, reason: 'ok' }) : down();
    });
    const t = mintTicket(key, { user: 'alice', hostId: HOST, jti: 'spent-offline-1' });
    const first = await d.decide({ op: 'auth', user: 'alice', ticket: t });
    assert.deepEqual([first.allow, first.mode], [true, 'offline']);
    const sent: Array<{ type: string; detail: Record<string, unknown> }> = [];
    await w.events.flush(async (batch) => {
      sent.push(...batch);
    });
    const report = sent.find((e) => e.type === 'offline_decision' && e.detail['op'] === 'auth');
    assert.equal(report?.detail['jti'], 'spent-offline-1');
    assert.equal(typeof report?.detail['exp'], 'number');
    apiUp = true;
    health.ok();
    const before = asked;
    assert.deepEqual(await d.decide({ op: 'auth', user: 'alice', ticket: t }), {
      allow: false,
      reason: 'ticket has already been used',
      mode: 'online',
    });
    assert.equal(asked, before, 'jmp-api is not asked about a ticket this host already spent');
  });

  test('an answer naming a newer policy version starts a pull; the same or an older version does not', async () => {
    const w = world();
    w.policy.accept(
      snapshot({ hostId: HOST, keys: [key], users: [{ username: 'alice', login: true, root: true }] }),
      '"e1"',
      new Date(),
      '41',
    );
    let version = '41';
    let pulls = 0;
    const api = { pamDecide: async () => ({ allow: true, reason: 'ok', policy: version }) } as unknown as AgentApi;
    const d = new Decider({
      target: () => ({ api, hostId: HOST, hostname: 'web-01' }),
      health: new ApiHealth(),
      policy: w.policy,
      spent: w.spent,
      events: w.events,
      noSnapshot: () => 'deny',
      log: silentLog,
      onStalePolicy: () => {
        pulls++;
      },
    });
    await d.decide({ op: 'account', user: 'alice' });
    assert.equal(pulls, 0);
    version = '7'; // another jmp-api instance that answered before the latest write
    await d.decide({ op: 'account', user: 'alice' });
    assert.equal(pulls, 0);
    version = '100'; // numerically newer, though shorter strings compare lower
    await d.decide({ op: 'account', user: 'alice' });
    assert.equal(pulls, 1);
    await d.decide({ op: 'account', user: 'alice' });
    assert.equal(pulls, 1, 'the same newer version is not pulled again at once');
    w.policy.confirm('100'); // the pull answered 304 at version 100
    version = '100';
    await d.decide({ op: 'account', user: 'alice' });
    assert.equal(pulls, 1);
    assert.equal(w.policy.version, '100');
  });

  test('a right jmp-api denied online stays denied offline until a newer snapshot, and the denial starts a pull', async () => {
    const w = world();
    let apiUp = true;
    let pulls = 0;
    const api = {
      pamDecide: () =>
        apiUp ? Promise.resolve({ allow: false, reason: 'no root right for alice on web-01' }) : down(),
    } as unknown as AgentApi;
    const health = new ApiHealth();
    const d = new Decider({
      target: () => ({ api, hostId: HOST, hostname: 'web-01' }),
      health,
      policy: w.policy,
      spent: w.spent,
      events: w.events,
      noSnapshot: () => 'deny',
      log: silentLog,
      onStalePolicy: () => {
        pulls++;
      },
    });
    assert.equal((await d.decide({ op: 'sudo', user: 'alice', runas: 'root' })).allow, false);
    assert.equal(pulls, 1, 'the snapshot still grants root: it is stale');
    apiUp = false;
    const off = await d.decide({ op: 'sudo', user: 'alice', runas: 'root' });
    assert.deepEqual([off.allow, off.mode], [false, 'offline']);
    assert.match(off.reason, /jmp-api denied the root right to alice/);
    assert.equal((await d.decide({ op: 'account', user: 'alice' })).allow, true, 'only the denied right');
    // A pull under way at the denial may bring the old rights: still denied.
    w.policy.accept(
      snapshot({ hostId: HOST, keys: [key], users: [{ username: 'alice', login: true, root: true }] }),
      '"e3"',
      new Date(Date.now() + 1000),
    );
    assert.equal(
      (await d.decide({ op: 'sudo', user: 'alice', runas: 'root' })).allow,
      false,
      'a snapshot right after the denial',
    );
    w.policy.accept(
      snapshot({ hostId: HOST, keys: [key], users: [{ username: 'alice', login: true, root: true }] }),
      '"e4"',
      new Date(Date.now() + DENIAL_OUTLIVES_PULL_MS + 1000),
    );
    assert.equal(
      (await d.decide({ op: 'sudo', user: 'alice', runas: 'root' })).allow,
      true,
      'a snapshot taken well after the denial decides again',
    );
  });

  test('degraded decisions are queued as offline_decision events; with no snapshot the default applies', async () => {
    const w = world();
    const { d } = decider(w, down);
    await d.decide({ op: 'account', user: 'bob', service: 'sshd' });
    assert.equal(w.events.size, 1);
    const { d: d2 } = decider(w, down, { snapshot: false });
    assert.deepEqual(await d2.decide({ op: 'account', user: 'bob' }), {
      allow: false,
      reason: 'jmp-api is unreachable and this host has no policy snapshot; default deny',
      mode: 'default',
    });
    const { d: d3 } = decider(w, down, { enrolled: false });
    assert.equal((await d3.decide({ op: 'account', user: 'bob' })).mode, 'default');
    assert.equal(w.events.size, 3);
  });
});

describe('decider: while jmp-api is down, one question a second tries it', () => {
  test('the others are decided offline at once; a probe that gets an answer brings decisions back online', async () => {
    const w = world();
    let now = 0;
    let asked = 0;
    let up = false;
    let release: (() => void) | null = null;
    const api = {
      pamDecide: () => {
        asked++;
        if (up) return Promise.resolve({ allow: true, reason: 'ok' });
        // The first question hangs until released, as a blackholed jmp-api would until the deadline.
        return new Promise((_, reject) => {
          release = () => reject(new ApiError('unavailable', 'jmp-api did not answer within 300 ms', 0));
        });
      },
    } as unknown as AgentApi;
    const health = new ApiHealth();
    const d = new Decider(
      {
        target: () => ({ api, hostId: HOST, hostname: 'web-01' }),
        health,
        policy: w.policy,
        spent: w.spent,
        events: w.events,
        noSnapshot: () => 'deny',
        log: silentLog,
      },
      () => now,
    );
    const first = d.decide({ op: 'account', user: 'alice' });
    await new Promise((r) => setImmediate(r));
    release!();
    assert.equal((await first).mode, 'offline');
    assert.equal(health.state, 'down');
    for (let i = 0; i < 20; i++) {
      now += 10;
      assert.equal((await d.decide({ op: 'account', user: 'alice' })).mode, 'offline');
    }
    assert.equal(asked, 1, 'within a second of the failure nobody asks jmp-api');
    now += 1000;
    up = true;
    assert.equal(
      (await d.decide({ op: 'account', user: 'alice' })).mode,
      'online',
      'the probe after a second reaches jmp-api',
    );
    assert.equal(health.state, 'up');
    assert.equal((await d.decide({ op: 'account', user: 'alice' })).mode, 'online');
    assert.equal(asked, 3);
  });

  test('while a probe is waiting for jmp-api, other questions do not wait with it', async () => {
    const w = world();
    let now = 5000;
    let pending = 0;
    let release: (() => void) | null = null;
    const api = {
      pamDecide: () => {
        pending++;
        return new Promise((_, reject) => {
          release = () => reject(new ApiError('unavailable', 'no answer', 0));
        });
      },
    } as unknown as AgentApi;
    const health = new ApiHealth();
    health.down('connect ECONNREFUSED');
    const d = new Decider(
      {
        target: () => ({ api, hostId: HOST, hostname: 'web-01' }),
        health,
        policy: w.policy,
        spent: w.spent,
        events: w.events,
        noSnapshot: () => 'deny',
        log: silentLog,
      },
      () => now,
    );
    const probe = d.decide({ op: 'account', user: 'alice' }); // the probe, hanging
    now += 5000;
    assert.equal((await d.decide({ op: 'account', user: 'alice' })).mode, 'offline');
    assert.equal(pending, 1, 'one probe at a time');
    release!();
    assert.equal((await probe).mode, 'offline');
  });
});

describe('decider over HTTP: only no answer or the outage marker is down', () => {
  test('hang → offline; 503 with JMP-Unavailable → offline; garbage, 500, bare 503 → denied online', async () => {
    const { createServer } = await import('node:http');
    const { createAgentApi } = await import('../api/client.js');
    const { createHttpFetch } = await import('../api/http.js');
    let behaviour: 'hang' | 'garbage' | '500' | '503-marked' | '503-bare' = 'hang';
    const srv = createServer((req, res) => {
      if (behaviour === 'hang') return; // never answers
      if (behaviour === 'garbage') return void res.end('<html>oops</html>');
      res.setHeader('content-type', 'application/json');
      if (behaviour === '500') {
        res.statusCode = 500;
        return void res.end('{"error":{"code":"internal","message":"internal error"}}');
      }
      res.statusCode = 503;
      if (behaviour === '503-marked') res.setHeader('JMP-Unavailable', '1');
      res.end('{"error":{"code":"unavailable","message":"the database is unavailable; try again shortly"}}');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const transport = createHttpFetch();
    try {
      const api = createAgentApi({
        baseUrl: `http://127.0.0.1:${port}`,
        transport,
        requestTimeoutMs: 1000,
        decideTimeoutMs: 300,
      });
      const w = world();
      for (const [b, want] of [
        ['hang', [true, 'offline']],
        ['503-marked', [true, 'offline']],
        ['garbage', [false, 'online']],
        ['500', [false, 'online']],
        ['503-bare', [false, 'online']],
      ] as const) {
        behaviour = b;
        // A decider each: a down jmp-api is asked again only once a second.
        const d = new Decider({
          target: () => ({ api, hostId: HOST, hostname: 'web-01' }),
          health: new ApiHealth(),
          policy: w.policy,
          spent: w.spent,
          events: w.events,
          noSnapshot: () => 'deny',
          log: silentLog,
        });
        const started = Date.now();
        const r = await d.decide({ op: 'sudo', user: 'alice', runas: 'root' });
        assert.deepEqual([r.allow, r.mode], want, b);
        if (!r.allow) assert.match(r.reason, /^jmp-api could not decide: /, b);
        assert.ok(Date.now() - started < 1000, `${b}: ${Date.now() - started} ms`);
      }
    } finally {
      transport.close();
      srv.closeAllConnections();
      srv.close();
    }
  });
});
