// The agent's view of jmp-api: two ApiClients over the same transport, one
// with the short PAM decision deadline, one for everything else; plus the
// endpoints @jmp/common's ApiClient does not wrap (events, agent tickets).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ApiClient, ApiError, contract } from '@jmp/common';
import type { Logger } from '@jmp/common';
import type { AgentConfig } from '../config.js';
import { createHttpFetch, type HttpFetch } from './http.js';
import type { HostTokenSigner } from './host-token.js';

export const AgentEventType = z.enum(['tamper', 'degraded', 'recovered', 'offline_decision']);
export type AgentEventType = z.infer<typeof AgentEventType>;
export const AgentEvent = z.object({ type: AgentEventType, at: z.string(), detail: z.record(z.string(), z.unknown()) });
export type AgentEvent = z.infer<typeof AgentEvent>;

/** The agent-side contract of POST /v1/agents/tickets (to be added to jmp-api). */
export const AgentTicketRequest = z.object({ user: contract.Username, host: contract.Hostname });
export type AgentTicketRequest = z.infer<typeof AgentTicketRequest>;

export interface AgentApi {
  readonly baseUrl: string;
  /** Short deadline (api.decideTimeoutMs): PAM decisions. */
  readonly decide: ApiClient;
  /** Normal deadline (api.requestTimeoutMs): policy, events, tickets. */
  readonly main: ApiClient;
  sendEvents(events: AgentEvent[]): Promise<void>;
  ticket(req: AgentTicketRequest): Promise<contract.TicketResponse>;
  close(): void;
}

/** A transport to jmp-api honouring api.fallbackAddresses and api.caFile. */
export function createTransport(config: AgentConfig, log: Pick<Logger, 'warn'>): HttpFetch {
  let warned = 0;
  return createHttpFetch({
    fallbackAddresses: config.api.fallbackAddresses,
    ...(config.api.caFile ? { ca: readFileSync(config.api.caFile) } : {}),
    onFallback: (hostname, err) => {
      // Once a minute at most: a resolver outage can last.
      if (Date.now() - warned > 60_000) {
        warned = Date.now();
        log.warn({ hostname, code: err.code, fallback: config.api.fallbackAddresses }, `cannot resolve ${hostname}; using the configured fallback addresses`);
      }
    },
  });
}

export function createAgentApi(opts: { baseUrl: string; transport: HttpFetch; signer?: HostTokenSigner; requestTimeoutMs: number; decideTimeoutMs: number }): AgentApi {
  const authorization = opts.signer ? () => opts.signer!.header() : undefined;
  const common = { baseUrl: opts.baseUrl, fetch: opts.transport.fetch, ...(authorization ? { authorization } : {}) };
  const main = new ApiClient({ ...common, timeoutMs: opts.requestTimeoutMs });
  const decide = new ApiClient({ ...common, timeoutMs: opts.decideTimeoutMs });
  return {
    baseUrl: opts.baseUrl,
    main,
    decide,
    async sendEvents(events) {
      await main.request('POST', '/v1/agents/events', null, { events });
    },
    async ticket(req) {
      return (await main.request('POST', '/v1/agents/tickets', contract.TicketResponse, req)).data!;
    },
    close: () => opts.transport.close(),
  };
}

/**
 * True when an error means "jmp-api is not answering properly" (no answer,
 * timeout, 5xx, 429, a body that is not the expected JSON): the agent then
 * decides offline. Any other answer (400, 401, 403, 404) is jmp-api's word.
 */
export function isApiDown(err: unknown): boolean {
  if (!(err instanceof ApiError)) return true;
  return err.httpStatus === 0 || err.httpStatus >= 500 || err.httpStatus === 429 || err.code === 'unavailable';
}
