// fleet-sync: one process holding many simulated agents. Each is the agent's
// own code — PolicySync (agent/src/policy/sync.ts) over the agent's HTTP
// client (agent/src/api/*) with its own host key (HostTokenSigner) — and only
// its policy store is a stand-in: it keeps the ETag and when it changed,
// instead of writing 2,500 snapshots to disk. Driven over IPC by bench.ts:
//   {cmd:'init', baseUrl, intervalMs, jitterMs, agents:[{hostId, keyPem}]}
//   {cmd:'start', staggerMs}   every agent starts at a random point within staggerMs
//   {cmd:'stop'}               every agent stops (its ETag is kept)
//   {cmd:'mark'}               remember each agent's ETag; report() says when it changed
//   {cmd:'report'}             {seenMs: ms since epoch of the first new ETag, or null per agent, pulls}
import { createPrivateKey } from 'node:crypto';
import { createAgentApi, type AgentApi } from '../../../agent/src/api/client.js';
import { createHttpFetch } from '../../../agent/src/api/http.js';
import { HostTokenSigner } from '../../../agent/src/api/host-token.js';
import { ApiHealth } from '../../../agent/src/api/health.js';
import { PolicySync } from '../../../agent/src/policy/sync.js';
import type { PolicyStore } from '../../../agent/src/policy/store.js';

interface Agent {
  api: AgentApi;
  sync: PolicySync;
  store: StandInStore;
  startTimer: NodeJS.Timeout | null;
}

class StandInStore {
  etag: string | undefined;
  lastCheckedAt: Date | null = null;
  marked: string | undefined;
  seenAt: number | null = null;
  accept(_snapshot: unknown, etag: string): void {
    this.etag = etag;
    this.lastCheckedAt = new Date();
    if (this.seenAt === null && this.marked !== undefined && etag !== this.marked) this.seenAt = Date.now();
  }
  confirm(): void {
    this.lastCheckedAt = new Date();
  }
}

const agents: Agent[] = [];
const pulls = { updated: 0, unchanged: 0, failed: 0 };
// PolicySync warns once per failed pull: counted, not printed.
const errors = new Map<string, number>();
const quiet = {
  warn(o: { err?: string }) {
    pulls.failed++;
    const e = String(o?.err).slice(0, 120);
    errors.set(e, (errors.get(e) ?? 0) + 1);
  },
  info() {},
  error() {},
  debug() {},
};

type Msg =
  | {
      cmd: 'init';
      baseUrl: string;
      intervalMs: number;
      jitterMs: number;
      agents: Array<{ hostId: number; keyPem: string }>;
    }
  | { cmd: 'start'; staggerMs: number }
  | { cmd: 'stop' | 'mark' | 'report' };

process.on('message', async (m: Msg) => {
  try {
    if (m.cmd === 'init') {
      for (const a of m.agents) {
        const signer = new HostTokenSigner(createPrivateKey(a.keyPem), a.hostId);
        const api = createAgentApi({
          baseUrl: m.baseUrl,
          transport: createHttpFetch(),
          signer,
          requestTimeoutMs: 15_000,
          decideTimeoutMs: 2000,
        });
        const store = new StandInStore();
        const sync = new PolicySync({
          store: store as unknown as PolicyStore,
          target: () => ({ api, hostId: a.hostId }),
          health: new ApiHealth(),
          intervalMs: m.intervalMs,
          jitterMs: m.jitterMs,
          log: quiet,
          onSuccess: (r) => {
            pulls[r]++;
          },
        });
        agents.push({ api, sync, store, startTimer: null });
      }
    } else if (m.cmd === 'start') {
      // Agents do not boot in step: each starts at a random point of the window.
      for (const a of agents)
        a.startTimer = setTimeout(() => {
          a.startTimer = null;
          a.sync.start();
        }, Math.random() * m.staggerMs);
    } else if (m.cmd === 'stop') {
      await Promise.all(
        agents.map(async (a) => {
          if (a.startTimer) clearTimeout(a.startTimer);
          a.startTimer = null;
          await a.sync.stop();
        }),
      );
    } else if (m.cmd === 'mark') {
      for (const a of agents) {
        a.store.marked = a.store.etag;
        a.store.seenAt = null;
      }
    } else if (m.cmd === 'report') {
      const failed = agents.length - agents.filter((a) => a.store.etag).length;
      process.send!({
        ok: true,
        seenMs: agents.map((a) => a.store.seenAt),
        pulls: { ...pulls, noSnapshot: failed },
        errors: Object.fromEntries(errors),
      });
      return;
    }
    process.send!({ ok: true });
  } catch (err) {
    process.send!({ ok: false, error: (err as Error)?.stack ?? String(err) });
  }
});
process.on('disconnect', () => process.exit(0));
