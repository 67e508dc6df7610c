// The one door to jmp-api: same origin (nginx in production, jmp-socket or
// Vite's proxy in development), the session cookie rides along, and every
// state-changing request carries X-JMP-CSRF (docs/decisions.md: web sessions).
import { csrfToken, onSessionLost } from './session-store.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `${path}?${s}` : path;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['x-jmp-csrf'] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unavailable', 'jmp is unreachable; check your connection and try again');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const err = new ApiError(
      res.status,
      e?.code ?? 'internal',
      e?.message ?? `jmp answered ${res.status} ${res.statusText}`,
    );
    // A session that ended (expired, user disabled) sends the person to the login page.
    if (res.status === 401 && !path.startsWith('/v1/auth/')) onSessionLost(err.message);
    throw err;
  }
  return json as T;
}

export const get = <T>(path: string, q?: Query) => api<T>('GET', withQuery(path, q));
export const post = <T>(path: string, body: unknown = {}) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
