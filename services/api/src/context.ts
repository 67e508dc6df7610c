// Everything a route needs, built once in main.ts and passed explicitly.
import type { Logger, Metrics } from '@jmp/runtime';
import type { Db } from './db/knex.js';
import type { Store } from './store/store.js';
import type { Secrets } from './crypto/secrets.js';
import type { TicketKeys } from './tickets/keys.js';
import type { ApiConfig } from './config.js';
import type { Notifier } from './notify/notifier.js';

export interface Ctx {
  config: ApiConfig;
  db: Db;
  store: Store;
  log: Logger;
  metrics: Metrics;
  secrets: Secrets;
  ticketKeys: TicketKeys;
  notifier: Notifier;
  now: () => Date;
}
