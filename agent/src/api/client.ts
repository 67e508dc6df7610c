// The agent's view of jmp-api: two ApiClients over the same transport, one
// with the short PAM decision deadline, one for everything else; plus the
// endpoints @jmp/contract's ApiClient does not wrap (events, agent tickets).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ApiClient, ApiError, POLICY_VERSION_HEADER, contract } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { AgentConfig } from '../config.js';
import { createHttpFetch, type HttpFetch } from './http.js';
import type { HostTokenSigner } from './host-token.js';
import { AGENT_VERSION } from '../version.js';

export const AgentEventType = z.enum(['tamper', 'degraded', 'recovered', 'offline_decision']);
export type AgentEventType = z.infer<typeof AgentEventType>;
export const AgentEvent = z.object({ type: AgentEventType, at: z.string(), detail: z.record(z.string(), z.unknown()) });
export type AgentEvent = z.infer<typeof AgentEvent>;

/** The agent-side contract of POST /v1/agents/tickets (to be added to jmp-api). */
export const AgentTicketRequest = z.object({ user: contract.Username, host: contract.Hostname });
export type AgentTicketRequest = z.infer<typeof AgentTicketRequest>;

export interface PamAnswer extends contract.PamDecideResponse {
  /** jmp-api's policy version when it answered (JMP-Policy-Version). */
  policy?: string;
}

export interface AgentApi {
  readonly baseUrl: string;
  /** Short deadline (api.decideTimeoutMs): PAM decisions. */
  readonly decide: ApiClient;
  /** Normal deadline (api.requestTimeoutMs): policy, events, tickets. */
  readonly main: ApiClient;
  /** A PAM decision (short deadline), with the policy version jmp-api named, if any. */
  pamDecide(req: contract.PamDecideRequest): Promise<PamAnswer>;
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
        log.warn(
          { hostname, code: err.code, fallback: config.api.fallbackAddresses },
          `cannot resolve ${hostname}; using the configured fallback addresses`,
        );
      }
    },
  });
}

export function createAgentApi(opts: {
  baseUrl: string;
  transport: HttpFetch;
  signer?: HostTokenSigner;
  requestTimeoutMs: number;
  decideTimeoutMs: number;
}): AgentApi {
  const authorization = opts.signer ? () => opts.signer!.header() : undefined;
  const common = {
    baseUrl: opts.baseUrl,
    fetch: opts.transport.fetch,
    // jmp-api shows the agent's version beside its last-seen time.
    headers: { 'user-agent': `jmp-agent/${AGENT_VERSION}` },
    ...(authorization ? { authorization } : {}),
  };
  const main = new ApiClient({ ...common, timeoutMs: opts.requestTimeoutMs });
  const decide = new ApiClient({ ...common, timeoutMs: opts.decideTimeoutMs });
  return {
    baseUrl: opts.baseUrl,
    main,
    decide,
    async pamDecide(req) {
      const r = await decide.request('POST', '/v1/pam/decide', contract.PamDecideResponse, req);
      const policy = r.headers.get(POLICY_VERSION_HEADER);
      return { ...r.data!, ...(policy ? { policy } : {}) };
    },
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
 * True when an error means "jmp-api is not there" — the only case in which
 * the agent decides from its snapshot: no answer at all (connect, DNS, TLS,
 * reset, timeout), a gateway saying it could not reach jmp-api (502, 504),
 * or jmp-api's own outage answer (503 with the JMP-Unavailable marker).
 * Anything else answered this one request (a 500, a 429, a 503 without the
 * marker, a body that is not the expected JSON, a 4xx): a denial, never a
 * reason to fall back to an older view of the rights.
 */
export function isApiDown(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.httpStatus === 0 || err.httpStatus === 502 || err.httpStatus === 504) return true;
  return err.httpStatus === 503 && err.marked;
}
