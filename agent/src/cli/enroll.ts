// `jmp-agent enroll --api URL --token T`.
import { readFileSync } from 'node:fs';
import { DiskHealth } from '../persist/disk.js';
import { PolicyStore } from '../policy/store.js';
import { PolicySync } from '../policy/sync.js';
import { ApiHealth } from '../api/health.js';
import { enrol } from '../enrol/enrol.js';
import { allowFlags, flag, UsageError, type ParsedArgs } from './args.js';
import { cliLogger, configFor, hostTarget, stdio, type Io } from './context.js';
import type { AgentConfig } from '../config.js';

export async function enrollCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, ['api', 'token', 'token-file', 'hostname', 'address', 'force', 'no-sync']);
  const apiUrl = flag(args, 'api');
  const tokenFile = flag(args, 'token-file');
  const token = flag(args, 'token') ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (!apiUrl || !token) throw new UsageError('enroll needs --api URL and --token T (or --token-file PATH)');
  try {
    new URL(apiUrl);
  } catch {
    throw new UsageError(`--api ${apiUrl} is not a URL`);
  }
  const config = configFor(args);
  const log = cliLogger(io);
  const hostname = flag(args, 'hostname');
  const state = await enrol(
    config,
    {
      apiUrl,
      token,
      force: args.bools.has('force'),
      addresses: args.flags.get('address') ?? [],
      ...(hostname ? { hostname } : {}),
    },
    log,
  );
  io.out(`enrolled as ${state.hostname} (host id ${state.hostId}) with ${state.apiUrl}`);
  if (args.bools.has('no-sync')) return 0;
  const r = await pullOnce(config, log);
  io.out(
    r.startsWith('updated') ? `policy ${r}; NSS files written` : `first policy pull: ${r} (the daemon will retry)`,
  );
  return 0;
}

/** One full pull written to disk (enroll, sync). */
export async function pullOnce(config: AgentConfig, log: ReturnType<typeof cliLogger>): Promise<string> {
  const t = hostTarget(config, log);
  try {
    const disk = new DiskHealth(log);
    const store = new PolicyStore(
      { policy: config.files.policy, passwd: config.files.passwd, group: config.files.group },
      config.nss.minId,
      disk,
      log,
    );
    const sync = new PolicySync({
      store,
      target: () => t,
      health: new ApiHealth(),
      intervalMs: config.policy.intervalMs,
      jitterMs: 0,
      log,
      force: true,
    });
    const r = await sync.syncOnce(true);
    if (r === 'updated' && disk.degraded) return `received but not written (${disk.code})`;
    return r === 'updated' ? `updated: ${store.current?.snapshot.users.length ?? 0} users` : r;
  } finally {
    t.close();
  }
}
