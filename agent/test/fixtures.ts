// Shared by the agent's tests: temp dirs, configs, ticket keys and tickets,
// snapshots, a silent logger.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createLogger } from '@jmp/runtime';
import type { PolicySnapshot } from '@jmp/contract/schemas/agents';
import { parseConfig, type AgentConfig } from '../src/config.js';
import { DiskHealth } from '../src/persist/disk.js';
import { PolicyStore } from '../src/policy/store.js';
import { EventQueue } from '../src/report/events.js';
import { SpentJtiStore } from '../src/decide/spent.js';

export const silentLog = createLogger('jmp-agent-test', process.env['JMP_TEST_LOG_LEVEL'] ?? 'silent');

/** A temp dir others may traverse (child processes run as uid 65534 in some tests). */
export function tmpDir(prefix = 'jmp-agent-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(d, 0o755);
  return d;
}

export function testConfig(dir: string, over: Record<string, unknown> = {}): AgentConfig {
  const base = {
    stateDir: join(dir, 'state'),
    keyFile: join(dir, 'etc', 'agent.key'),
    socket: { path: join(dir, 'agent.sock') },
    sshHostKeyFiles: [join(dir, 'ssh_host_ed25519_key.pub')],
    guard: { files: [] },
    policy: { intervalMs: 3_600_000, jitterMs: 0 },
    events: { flushIntervalMs: 3_600_000 },
    api: { decideTimeoutMs: 1500, requestTimeoutMs: 3000 },
  };
  return parseConfig(JSON.stringify({ ...base, ...over }), join(dir, 'agent.conf'));
}

export interface TicketKey {
  kid: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function ticketKey(kid = `k-${randomUUID().slice(0, 8)}`): TicketKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export function mintTicket(
  key: TicketKey,
  o: { user: string; hostId: number; ttl?: number; jti?: string; iss?: string; kid?: string; iatOffset?: number },
): string {
  const now = Math.floor(Date.now() / 1000) + (o.iatOffset ?? 0);
  return jwt.sign({ iat: now, exp: now + (o.ttl ?? 60) }, key.privateKey, {
    algorithm: 'ES256',
    keyid: o.kid ?? key.kid,
    subject: o.user,
    audience: `jmp-host:${o.hostId}`,
    jwtid: o.jti ?? randomUUID(),
    issuer: o.iss ?? 'jmp-api',
  });
}

export function snapshot(
  o: {
    hostId?: number;
    keys?: TicketKey[];
    users?: Partial<PolicySnapshot['users'][number]>[];
    noSnapshot?: 'deny' | 'allow';
  } = {},
): PolicySnapshot {
  const users = (
    o.users ?? [
      { username: 'alice', login: true, root: true },
      { username: 'bob', login: true, root: false },
    ]
  ).map((u, i) => ({
    username: `user${i}`,
    uid: 200_000 + i,
    gid: 200_000 + i,
    gecos: 'Test User',
    home: `/home/${u.username ?? `user${i}`}`,
    shell: '/bin/bash',
    groups: ['jmp-users'],
    login: true,
    root: false,
    ...u,
  }));
  return {
    version: 1,
    host: { id: o.hostId ?? 7, hostname: 'web-01', state: 'online' },
    generatedAt: new Date().toISOString(),
    users,
    groups: [{ name: 'jmp-users', gid: 199_999, members: users.map((u) => u.username) }],
    ticketKeys: (o.keys ?? []).map((k) => ({ kid: k.kid, publicKeyPem: k.publicKeyPem })),
    failPolicy: { noSnapshot: o.noSnapshot ?? 'deny' },
  };
}

/** What the decider works with on a host, in `dir`: a policy store holding `snap`, the spent-jti set, the event queue. */
export function decisionState(dir: string, snap: PolicySnapshot) {
  const disk = new DiskHealth(silentLog);
  const policy = new PolicyStore(
    { policy: join(dir, 'policy.json'), passwd: join(dir, 'passwd'), group: join(dir, 'group') },
    1000,
    disk,
    silentLog,
  );
  policy.accept(snap, '"e1"');
  const spent = new SpentJtiStore(join(dir, 'spent-jti'), disk);
  const events = new EventQueue(join(dir, 'events.json'), 100, disk, silentLog);
  return { dir, disk, policy, spent, events };
}
