// The daemon, assembled: stores, api client, decider, guard, socket server
// and the timers that drive them. `jmp-agent run` calls startAgent; tests
// call it in-process with a temporary config.
import { mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from '@jmp/runtime';
import { peerCred as nativePeerCred, type PeerCred } from '@jmp/native';
import type { AgentConfig } from './config.js';
import { createAgentApi, createTransport, isApiDown, type AgentApi } from './api/client.js';
import { ApiHealth } from './api/health.js';
import { HostTokenSigner } from './api/host-token.js';
import { Decider } from './decide/decider.js';
import { SpentJtiStore } from './decide/spent.js';
import { loadAgentKey } from './enrol/keys.js';
import { readState, writeState, type AgentState } from './enrol/state.js';
import { FileGuard } from './guard/guard.js';
import { DiskHealth } from './persist/disk.js';
import { realFs, type FsLayer } from './persist/fs.js';
import { PolicyStore } from './policy/store.js';
import { PolicySync, type SyncResult } from './policy/sync.js';
import type { AgentMode } from './protocol/line.js';
import { EventQueue } from './report/events.js';
import { StatusReporter, type AgentStatus } from './report/status.js';
import { AGENT_VERSION, createHandler } from './server/handler.js';
import { startSocketServer, type SocketServer } from './server/socket.js';
import { guardLocalAccounts } from './local/guard.js';
import { localAccountsReader } from './local/accounts.js';
import { MariadbAccounts } from './db/mariadb-sync.js';
import { DbSessions } from './db/sessions.js';

export interface StartOptions {
  log: Logger;
  /** The file layer for the state dir (tests inject failures). */
  fsl?: FsLayer;
  peerCred?: (s: Socket) => PeerCred;
}

export interface Target {
  api: AgentApi;
  hostId: number;
  hostname: string;
}

export interface RunningAgent {
  readonly config: AgentConfig;
  readonly policy: PolicyStore;
  readonly spent: SpentJtiStore;
  readonly events: EventQueue;
  readonly health: ApiHealth;
  readonly disk: DiskHealth;
  readonly guard: FileGuard;
  readonly decider: Decider;
  readonly server: SocketServer;
  target(): Target | null;
  mode(): AgentMode;
  syncNow(force?: boolean): Promise<SyncResult>;
  flushEvents(): Promise<boolean>;
  status(): AgentStatus;
  close(): Promise<void>;
}

export async function startAgent(config: AgentConfig, opts: StartOptions): Promise<RunningAgent> {
  const { log } = opts;
  const fsl = opts.fsl ?? realFs;
  const startedAt = new Date();
  for (const f of [
    config.files.policy,
    config.files.passwd,
    config.files.group,
    config.files.spentJti,
    config.files.events,
    config.files.status,
    config.files.state,
  ]) {
    mkdirSync(dirname(f), { recursive: true, mode: 0o755 });
  }

  let status: StatusReporter | null = null;
  const touch = () => status?.touch();
  let events: EventQueue;
  const disk = new DiskHealth(log, (c) => {
    events.push(c.degraded ? 'degraded' : 'recovered', {
      reason: 'disk',
      store: c.store,
      ...(c.code ? { code: c.code } : {}),
    });
    touch();
  });
  events = new EventQueue(config.files.events, config.events.maxQueued, disk, log, fsl);
  events.load();

  const health = new ApiHealth((t) => {
    if (t.up) {
      log.info({ downSince: t.downSince?.toISOString() }, 'jmp-api answers again');
      events.push('recovered', { reason: 'api', downSince: t.downSince?.toISOString() });
      void flushEvents();
    } else {
      log.warn({ err: t.error }, 'jmp-api does not answer; deciding from the cached snapshot');
      events.push('degraded', { reason: 'api', error: t.error?.slice(0, 300) });
    }
    touch();
  });

  const policy = new PolicyStore(
    { policy: config.files.policy, passwd: config.files.passwd, group: config.files.group },
    config.nss.minId,
    disk,
    log,
    fsl,
  );
  if (policy.load())
    log.info({ generatedAt: policy.current?.snapshot.generatedAt }, 'loaded the cached policy snapshot');
  const spent = new SpentJtiStore(config.files.spentJti, disk, fsl);
  spent.load();

  // Enrolment: read at start, and again on every sync tick until it exists.
  const transport = createTransport(config, log);
  let state: AgentState | null = null;
  let target: Target | null = null;
  let lastTargetError = '';
  const refreshTarget = (): Target | null => {
    if (target) return target;
    try {
      state = readState(config.files.state);
      if (!state) throw new Error(`not enrolled (no ${config.files.state}); run jmp-agent enroll`);
      const key = loadAgentKey(config.keyFile);
      const signer = new HostTokenSigner(key.privateKey, state.hostId);
      const baseUrl = config.api.url ?? state.apiUrl;
      target = {
        api: createAgentApi({
          baseUrl,
          transport,
          signer,
          requestTimeoutMs: config.api.requestTimeoutMs,
          decideTimeoutMs: config.api.decideTimeoutMs,
        }),
        hostId: state.hostId,
        hostname: state.hostname,
      };
      log.info({ hostId: state.hostId, hostname: state.hostname, api: baseUrl }, 'enrolled host identity loaded');
      touch();
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== lastTargetError) log.warn({ err: msg }, 'no host identity yet; decisions use the default');
      lastTargetError = msg;
    }
    return target;
  };
  refreshTarget();

  let flushing = false;
  async function flushEvents(): Promise<boolean> {
    const t = target;
    if (!t || flushing || (events.size === 0 && events.droppedCount === 0)) return false;
    flushing = true;
    try {
      await events.flush((batch) => t.api.sendEvents(batch));
      health.ok();
      events.persist();
      return true;
    } catch (err) {
      if (isApiDown(err)) health.down((err as Error).message);
      else log.warn({ err: (err as Error).message }, 'jmp-api refused the agent events');
      return false;
    } finally {
      flushing = false;
      touch();
    }
  }

  let lastDecision: AgentStatus['lastDecision'] = null;
  const decider = new Decider({
    target: () => target,
    health,
    policy,
    spent,
    events,
    noSnapshot: () => state?.noSnapshot ?? config.decide.noSnapshot,
    log,
    onDecision: (req, d) => {
      lastDecision = { at: new Date().toISOString(), op: req.op, user: req.user, allow: d.allow, mode: d.mode };
      touch();
    },
    // jmp-api has a newer policy (e.g. a revoked right): pull now, not at the next interval.
    onStalePolicy: () => void sync.syncOnce(),
  });

  const mode = (): AgentMode => {
    if (!target) return 'default';
    if (health.state === 'down') return policy.current ? 'offline' : 'default';
    return 'online';
  };

  const guard = new FileGuard({
    files: config.guard.enabled ? config.guard.files : [],
    baselinePath: config.files.guardBaseline,
    intervalMs: config.guard.intervalMs,
    log,
    onTamper: (r) => {
      events.push('tamper', { ...r });
      void flushEvents();
      touch();
    },
  });
  guard.init();

  const sync = new PolicySync({
    store: policy,
    target: refreshTarget,
    health,
    intervalMs: config.policy.intervalMs,
    jitterMs: config.policy.jitterMs,
    log,
    onSuccess: () => {
      const fp = policy.current?.snapshot.failPolicy.noSnapshot;
      if (state && fp && state.noSnapshot !== fp) {
        const next: AgentState = { ...state, noSnapshot: fp };
        state = next;
        disk.attempt('state', () => writeState(config.files.state, next, fsl));
      }
      void flushEvents();
      touch();
      syncDbAccounts();
    },
  });

  // Database terminals: MariaDB accounts follow the snapshot; Redis users live for one session.
  const mariadb = new MariadbAccounts(config.db.mariadb, log);
  const syncDbAccounts = () => {
    const users = policy.current?.snapshot.users;
    if (users) void mariadb.sync(users);
  };
  const dbSessions = new DbSessions(config.db, policy, log);

  const server = await startSocketServer({
    path: config.socket.path,
    maxConnections: config.socket.maxConnections,
    idleTimeoutMs: config.socket.idleTimeoutMs,
    handle: guardLocalAccounts(
      createHandler({ decider, policy, target: () => target, mode, db: (req, peer) => dbSessions.handle(req, peer) }),
      {
        policy,
        local: localAccountsReader(),
        log,
      },
    ),
    peerCred: opts.peerCred ?? nativePeerCred,
    log,
  });

  const collect = (): AgentStatus => {
    const c = policy.current;
    const degraded: string[] = [];
    if (!target) degraded.push('not_enrolled');
    if (health.state === 'down') degraded.push('api_unreachable');
    if (!c) degraded.push('no_snapshot');
    if (disk.degraded) degraded.push('disk');
    return {
      version: AGENT_VERSION,
      pid: process.pid,
      startedAt: startedAt.toISOString(),
      updatedAt: new Date().toISOString(),
      configPath: config.configPath,
      socket: config.socket.path,
      enrolled: target && state ? { hostId: state.hostId, hostname: state.hostname, apiUrl: target.api.baseUrl } : null,
      api: {
        state: health.state,
        lastOkAt: health.lastOkAt?.toISOString() ?? null,
        downSince: health.downSince?.toISOString() ?? null,
        lastError: health.lastError,
      },
      snapshot: c
        ? {
            generatedAt: c.snapshot.generatedAt,
            receivedAt: c.receivedAt,
            lastCheckedAt: policy.lastCheckedAt?.toISOString() ?? null,
            etag: c.etag,
            users: c.snapshot.users.length,
          }
        : null,
      lastDecision,
      degraded,
      events: { queued: events.size, dropped: events.droppedCount },
      spentJti: spent.size,
      guard: { files: guard.guarded, tampers: guard.tampers, lastTamper: guard.lastTamper },
    };
  };
  status = new StatusReporter(config.files.status, collect, disk, fsl);
  status.start();

  const timers = [
    setInterval(() => void flushEvents(), config.events.flushIntervalMs),
    setInterval(() => {
      if (disk.degraded) disk.retry();
    }, 2000),
    setInterval(() => spent.prune(), 60_000),
    setInterval(syncDbAccounts, config.db.mariadb.syncIntervalMs),
    setInterval(() => void dbSessions.sweep().catch((err: unknown) => log.debug({ err }, 'Redis sweep failed')), 5000),
  ];
  syncDbAccounts();
  for (const t of timers) t.unref();
  sync.start();
  guard.start();

  let closed = false;
  return {
    config,
    policy,
    spent,
    events,
    health,
    disk,
    guard,
    decider,
    server,
    target: () => target,
    mode,
    syncNow: (force = false) => sync.syncOnce(force),
    flushEvents,
    status: collect,
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      guard.stop();
      await sync.stop();
      await server.close();
      events.persist();
      status?.stop();
      transport.close();
      log.info('stopped');
    },
  };
}
