// Compact tickets (the RDP password of Linux desktops) on the agent: the same
// offline rules and the same spent set as the JWT ticket, and the golden
// vectors jmp-api's tests also read.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApiError } from '@jmp/contract';
import { COMPACT_TICKET_PREFIX, signCompactTicket, type CompactClaims } from '@jmp/contract/compact-ticket';
import type { AgentApi } from '../api/client.js';
import { ApiHealth } from '../api/health.js';
import { DiskHealth } from '../persist/disk.js';
import { Decider } from './decider.js';
import { decideOffline } from './offline.js';
import { SpentJtiStore } from './spent.js';
import { verifyCompactTicketOffline } from './ticket.js';
import { goldenPath } from '../../test/golden.js';
import { decisionState, silentLog, snapshot, ticketKey, tmpDir, type TicketKey } from '../../test/fixtures.js';

const HOST = 7;
const key = ticketKey('k-compact-1');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function compact(k: TicketKey, o: Partial<CompactClaims> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return signCompactTicket(k.kid, k.privateKey, {
    hostId: HOST,
    username: 'alice',
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...o,
  });
}

/** The decider's state with `keys` as the snapshot's ticket keys, in a fresh directory. */
function host(keys: Array<Pick<TicketKey, 'kid' | 'publicKeyPem'>> = [key]) {
  const dir = tmpDir();
  dirs.push(dir);
  const snap = snapshot({ hostId: HOST, users: [{ username: 'alice', login: true, root: false }] });
  const { policy, spent, events } = decisionState(dir, {
    ...snap,
    ticketKeys: keys.map((k) => ({ kid: k.kid, publicKeyPem: k.publicKeyPem })),
  });
  return { dir, policy, spent, events, ctx: { hostId: HOST, hostname: 'desk-01', policy, spent, bootedAtS: 0 } };
}

describe('compact tickets offline', () => {
  test('allowed once from the snapshot; the replay is refused, also after a restart', () => {
    const h = host();
    const t = compact(key);
    assert.deepEqual(decideOffline({ op: 'auth', user: 'alice', ticket: t }, h.ctx), {
      allow: true,
      reason: 'alice has the login right on desk-01 (offline)',
    });
    assert.deepEqual(decideOffline({ op: 'auth', user: 'alice', ticket: t }, h.ctx), {
      allow: false,
      reason: 'ticket has already been used (offline)',
    });
    const reborn = new SpentJtiStore(join(h.dir, 'spent-jti'), new DiskHealth(silentLog));
    reborn.load();
    assert.equal(decideOffline({ op: 'auth', user: 'alice', ticket: t }, { ...h.ctx, spent: reborn }).allow, false);
  });

  test('another host, another user, expired, unknown key, issued before the boot: refused', () => {
    const h = host();
    const no = (ticket: string, reason: string, user = 'alice', ctx = h.ctx) =>
      assert.deepEqual(decideOffline({ op: 'auth', user, ticket }, ctx), { allow: false, reason });
    no(compact(key, { hostId: 8 }), 'ticket is for another host (offline)');
    no(compact(key), 'ticket is for another user (offline)', 'bob');
    const now = Math.floor(Date.now() / 1000);
    no(compact(key, { iat: now - 100, exp: now - 40 }), 'ticket has expired (offline)');
    no(compact(ticketKey('k-elsewhere')), 'ticket is signed by an unknown key (offline)');
    no(compact(key), 'ticket was issued before this host last started (offline)', 'alice', {
      ...h.ctx,
      bootedAtS: now + 10,
    });
    assert.equal(h.spent.size, 0, 'no refusal spends a ticket');
  });

  test('a bit flipped in any byte is refused', () => {
    const h = host();
    const t = compact(key, { session: randomUUID() });
    const raw = Buffer.from(t.slice(COMPACT_TICKET_PREFIX.length), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const b = Buffer.from(raw);
      b[i]! ^= 0x04;
      const r = verifyCompactTicketOffline(COMPACT_TICKET_PREFIX + b.toString('base64url'), 'alice', HOST, (id) =>
        h.policy.compactTicketKey(id),
      );
      assert.equal(r.ok, false, `byte ${i}`);
    }
    assert.equal(verifyCompactTicketOffline(t, 'alice', HOST, (id) => h.policy.compactTicketKey(id)).ok, true);
  });
});

describe('compact tickets through the decider (online, then offline)', () => {
  const down = () => Promise.reject(new ApiError('unavailable', 'jmp-api did not answer: connect ECONNREFUSED', 0));
  function decider(h: ReturnType<typeof host>, answer: () => Promise<{ allow: boolean; reason: string }>) {
    const health = new ApiHealth();
    const api = { pamDecide: answer } as unknown as AgentApi;
    const d = new Decider({
      target: () => ({ api, hostId: HOST, hostname: 'desk-01' }),
      health,
      policy: h.policy,
      spent: h.spent,
      events: h.events,
      noSnapshot: () => 'deny',
      log: silentLog,
    });
    return { d, health };
  }

  test('spent online, it cannot be replayed offline', async () => {
    const h = host();
    let up = true;
    const { d, health } = decider(h, () => (up ? Promise.resolve({ allow: true, reason: 'ok' }) : down()));
    const t = compact(key);
    assert.equal((await d.decide({ op: 'auth', user: 'alice', ticket: t })).mode, 'online');
    up = false;
    health.down('connect ECONNREFUSED');
    assert.deepEqual(await d.decide({ op: 'auth', user: 'alice', ticket: t }), {
      allow: false,
      reason: 'ticket has already been used (offline)',
      mode: 'offline',
    });
  });

  test('spent offline, it is reported to jmp-api with its jti and expiry, and refused online without asking', async () => {
    const h = host();
    let up = false;
    let asked = 0;
    const { d, health } = decider(h, () => {
      asked++;
      return up ? Promise.resolve({ allow: true, reason: 'ok' }) : down();
    });
    const jti = randomUUID();
    const t = compact(key, { jti });
    assert.deepEqual(await d.decide({ op: 'auth', user: 'alice', ticket: t }), {
      allow: true,
      reason: 'alice has the login right on desk-01 (offline)',
      mode: 'offline',
    });
    const sent: Array<{ type: string; detail: Record<string, unknown> }> = [];
    await h.events.flush(async (batch) => {
      sent.push(...batch);
    });
    const report = sent.find((e) => e.type === 'offline_decision' && e.detail['op'] === 'auth');
    assert.equal(report?.detail['jti'], jti);
    assert.equal(typeof report?.detail['exp'], 'number');
    up = true;
    health.ok();
    const before = asked;
    assert.equal((await d.decide({ op: 'auth', user: 'alice', ticket: t })).allow, false);
    assert.equal(asked, before);
  });
});

type Vector = { name: string; ticket: string; user: string; hostId: number; nowS: number; expect: object };
const golden = JSON.parse(readFileSync(goldenPath('compact-ticket-v1.json'), 'utf8')) as {
  key: { kid: string; publicKeyPem: string };
  vectors: Vector[];
};

describe("golden vectors through the agent's offline verifier (test/golden/compact-ticket-v1.json)", () => {
  const h = host([golden.key]);
  for (const v of golden.vectors) {
    test(v.name, () => {
      const r = verifyCompactTicketOffline(
        v.ticket,
        v.user,
        v.hostId,
        (id) => h.policy.compactTicketKey(id),
        v.nowS * 1000,
      );
      // The agent's answer carries no session; everything else is the golden verdict.
      const { session: _session, ...want } = v.expect as { session?: string };
      assert.deepEqual(r, want);
    });
  }
});
