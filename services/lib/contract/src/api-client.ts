// The typed client every service and the agent use to talk to jmp-api.
// Requests and responses are validated with the same zod schemas the server uses.
import type { z } from 'zod';
import { JmpError, type ErrorCode } from './errors.js';
import { POLICY_VERSION_HEADER, UNAVAILABLE_HEADER } from './headers.js';
import * as c from './schemas/index.js';

/** The part of a fetch Response the client reads (global fetch's Response fits). */
export interface ApiFetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface ApiFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/**
 * The transport: global fetch by default. The agent passes its own over
 * node:http (DNS fallback, size cap), which also keeps undici, and the
 * memory it takes, out of a process that runs on every host.
 */
export type ApiFetch = (url: string, init: ApiFetchInit) => Promise<ApiFetchResponse>;

export interface ApiClientOptions {
  baseUrl: string;
  /** Value of the Authorization header, computed per request (e.g. a fresh JMP-Host JWT). */
  authorization?: () => string | Promise<string>;
  timeoutMs?: number;
  fetch?: ApiFetch;
  /** Sent with every request, e.g. the caller's user-agent. */
  headers?: Record<string, string>;
}

/** An error answered by jmp-api (status ≥ 400) or a transport failure (status 0). */
export class ApiError extends JmpError {
  /** `marked`: a 503 that carries jmp-api's own outage marker (UNAVAILABLE_HEADER). */
  constructor(
    code: ErrorCode,
    message: string,
    readonly httpStatus: number,
    readonly marked = false,
  ) {
    super(code, message);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly doFetch: ApiFetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.doFetch = opts.fetch ?? ((url, init) => fetch(url, init));
  }

  async request<T extends z.ZodType>(
    method: string,
    path: string,
    schema: T | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; data: z.output<T> | undefined; headers: ApiFetchResponse['headers'] }> {
    const h: Record<string, string> = { accept: 'application/json', ...this.opts.headers, ...headers };
    if (this.opts.authorization) h.authorization = await this.opts.authorization();
    if (body !== undefined) h['content-type'] = 'application/json';
    let res: ApiFetchResponse;
    try {
      res = await this.doFetch(this.base + path, {
        method,
        headers: h,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as Error;
      throw new ApiError(
        'unavailable',
        `jmp-api at ${this.base} did not answer: ${e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : e.message}`,
        0,
      );
    }
    if (res.status === 304 || res.status === 204) return { status: res.status, data: undefined, headers: res.headers };
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ApiError('unavailable', `jmp-api answered ${res.status} with a body that is not JSON`, res.status);
    }
    if (res.status >= 400) {
      const err = (json as { error?: { code?: ErrorCode; message?: string } } | undefined)?.error;
      const marked = res.status === 503 && res.headers.get(UNAVAILABLE_HEADER) === '1';
      throw new ApiError(
        err?.code ?? (res.status >= 500 ? 'unavailable' : 'bad_request'),
        err?.message ?? `jmp-api answered ${res.status}`,
        res.status,
        marked,
      );
    }
    if (!schema) return { status: res.status, data: json as z.output<T>, headers: res.headers };
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new ApiError(
        'unavailable',
        `jmp-api answered ${path} with an unexpected body: ${parsed.error.issues[0]?.message}`,
        res.status,
      );
    return { status: res.status, data: parsed.data, headers: res.headers };
  }

  async authSsh(req: c.AuthSshRequest): Promise<c.AuthUser> {
    return (await this.request('POST', '/v1/auth/ssh', c.AuthSshResponse, req)).data!.user;
  }

  async ticket(req: c.TicketRequest): Promise<c.TicketResponse> {
    return (await this.request('POST', '/v1/tickets', c.TicketResponse, req)).data!;
  }

  /** jmp-rdp: spends a desktop token for the browser's web session, before the WebSocket upgrade. */
  async desktopRedeem(req: c.DesktopRedeemRequest): Promise<c.DesktopRedeemResponse> {
    return (await this.request('POST', '/v1/desktop/redeem', c.DesktopRedeemResponse, req)).data!;
  }

  async myHosts(user: string): Promise<c.MyHost[]> {
    return (await this.request('GET', `/v1/access/hosts?user=${encodeURIComponent(user)}`, c.MyHosts)).data!.hosts;
  }

  async guardRules(host: string): Promise<c.HostRules> {
    return (await this.request('GET', `/v1/guard/rules?host=${encodeURIComponent(host)}`, c.HostRules)).data!;
  }

  async sessionStarted(s: c.SessionStart): Promise<void> {
    await this.request('POST', '/v1/sessions', null, s);
  }

  async sessionEnded(id: string, e: c.SessionEnd): Promise<void> {
    await this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/end`, null, e);
  }

  async commands(id: string, commands: c.CommandRecord[]): Promise<void> {
    await this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/commands`, null, { commands });
  }

  /** Names this instance's live sessions; returns those an administrator ended. */
  async heartbeat(instance: string, sessions: string[]): Promise<Array<{ id: string; reason: string }>> {
    return (await this.request('POST', '/v1/sessions/heartbeat', c.HeartbeatAnswer, { instance, sessions })).data!.end;
  }

  /** The heartbeat's whole answer: sessions to end and sessions someone watches. */
  async heartbeatWatch(
    instance: string,
    sessions: string[],
  ): Promise<{ end: Array<{ id: string; reason: string }>; watched: Array<{ id: string; notice: boolean }> }> {
    const a = (await this.request('POST', '/v1/sessions/heartbeat', c.HeartbeatAnswer, { instance, sessions })).data!;
    return { end: a.end, watched: a.watched ?? [] };
  }

  /** Output of a watched session (base64 pieces, in order). */
  async liveOutput(id: string, chunks: string[]): Promise<void> {
    await this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/output`, null, { chunks });
  }

  async pamDecide(req: c.PamDecideRequest): Promise<c.PamDecideResponse> {
    return (await this.request('POST', '/v1/pam/decide', c.PamDecideResponse, req)).data!;
  }

  async enroll(req: c.EnrollRequest): Promise<{ hostId: number; hostname: string }> {
    return (await this.request('POST', '/v1/agents/enroll', c.EnrollResponse, req)).data!;
  }

  /** The host's snapshot, or null when `etag` is still current (304). */
  /**
   * The host's snapshot, or `{ unchanged }` when it still has the ETag's; `version` is the
   * policy version it was built at (JMP-Policy-Version), when jmp-api names one.
   */
  async policy(
    etag?: string,
  ): Promise<{ snapshot: c.PolicySnapshot; etag: string; version?: string } | { unchanged: true; version?: string }> {
    const r = await this.request(
      'GET',
      '/v1/agents/policy',
      c.PolicySnapshot,
      undefined,
      etag ? { 'if-none-match': etag } : {},
    );
    const v = r.headers.get(POLICY_VERSION_HEADER);
    const version = v ? { version: v } : {};
    if (r.status === 304) return { unchanged: true, ...version };
    return { snapshot: r.data!, etag: r.headers.get('etag') ?? '', ...version };
  }
}

/** A service's client of jmp-api: its base URL and its service token (JMP_API_URL, JMP_SERVICE_TOKEN). */
export function serviceApiClient(config: { apiUrl: string; serviceToken: string }, timeoutMs = 5000): ApiClient {
  return new ApiClient({ baseUrl: config.apiUrl, authorization: () => `Bearer ${config.serviceToken}`, timeoutMs });
}
