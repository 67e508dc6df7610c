// Wires the route modules into one app. main.ts and the tests both use this.
import { createMetrics, createLogger } from '@jmp/runtime';
import type { Ctx } from './context.js';
import type { ApiConfig } from './config.js';
import { createApp, type RouteModule } from './http/app.js';
import { createDb, migrate, type Db } from './db/knex.js';
import { createStore, type Store } from './store/index.js';
import { deriveSecrets, parseMasterSecret } from './crypto/secrets.js';
import { loadTicketKeys } from './tickets/keys.js';
import { healthRoutes } from './health/routes.js';
import { authRoutes } from './auth/routes.js';
import { ticketRoutes } from './tickets/routes.js';
import { pamRoutes } from './pam/routes.js';
import { agentRoutes } from './agents/routes.js';
import { requestRoutes } from './requests/routes.js';
import { adminRoutes } from './admin/routes.js';
import { accessRoutes } from './access/routes.js';
import { sessionRoutes } from './sessions/routes.js';
import { webRoutes } from './web/routes.js';
import { deviceRoutes } from './devices/routes.js';
import { fileRoutes } from './files/routes.js';
import { desktopRoutes } from './desktop/routes.js';
import { Notifier } from './notify/notifier.js';

export const ROUTE_MODULES: RouteModule[] = [
  healthRoutes,
  authRoutes,
  ticketRoutes,
  pamRoutes,
  agentRoutes,
  requestRoutes,
  accessRoutes,
  sessionRoutes,
  webRoutes,
  deviceRoutes,
  fileRoutes,
  desktopRoutes,
  adminRoutes,
];

export interface BuildOptions {
  config: ApiConfig;
  db?: Db;
  store?: Store;
  migrateSchema?: boolean;
}

export async function buildContext(opts: BuildOptions): Promise<Ctx> {
  const { config } = opts;
  if (!config.databaseUrl && !opts.db) throw new Error('DATABASE_URL is required');
  if (!config.secretKey) throw new Error('JMP_SECRET_KEY is required');
  const db = opts.db ?? createDb(config.databaseUrl!, { min: 0, max: config.dbPoolMax });
  if (opts.migrateSchema !== false) await migrate(db, config.uidBase);
  const secrets = deriveSecrets(parseMasterSecret(config.secretKey));
  const log = createLogger('jmp-api', config.logLevel);
  return {
    config,
    db,
    log,
    secrets,
    store: opts.store ?? createStore(config.redisUrl),
    metrics: createMetrics('jmp-api'),
    ticketKeys: await loadTicketKeys(db, secrets),
    notifier: new Notifier(db, log, {
      smtpUrl: config.smtpUrl,
      smtpFrom: config.smtpFrom,
      webhookUrl: config.webhookUrl,
    }),
    now: () => new Date(),
  };
}

export function buildApp(ctx: Ctx) {
  return createApp(ctx, ROUTE_MODULES);
}
