// The handshake of /terminal: the Origin must be allowed, and the browser's
// jmp_session cookie must be a live web session, which jmp-api proves by
// issuing a one-time credential for it. A refusal reaches the page as
// connect_error with a sentence in `message` and a code in `data.code`.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'socket.io';
import type { Logger } from '@jmp/runtime';
import { originRefusal } from './origin.js';
import { CredentialError, type Credentials, type Identity } from '../terminal/credentials.js';
import type { SocketMetrics } from '../metrics.js';

export const SESSION_COOKIE = 'jmp_session';

export type RefusalCode = 'bad_origin' | 'no_session' | 'session_refused' | 'unavailable';

export function cookieValue(headers: IncomingHttpHeaders, name: string): string | null {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return null;
      }
    }
  }
  return null;
}

function refuse(code: RefusalCode, message: string): Error {
  return Object.assign(new Error(message), { data: { code } });
}

export interface HandshakeDeps {
  origins: string[] | undefined;
  credentials: Credentials;
  log: Logger;
  metrics: SocketMetrics;
}

/** socket.io namespace middleware; on success `socket.data.identity` holds the user and a fresh credential. */
export function checkHandshake({ origins, credentials, log, metrics }: HandshakeDeps) {
  return async (socket: Socket, next: (err?: Error) => void): Promise<void> => {
    const h = socket.handshake;
    const fail = (code: RefusalCode, message: string) => {
      metrics.handshakesRefused.inc({ reason: code });
      log.info({ source: h.address, code, why: message }, 'terminal handshake refused');
      next(refuse(code, message));
    };
    const badOrigin = originRefusal(h.headers.origin, h.headers.host, origins);
    if (badOrigin) return fail('bad_origin', badOrigin);
    const session = cookieValue(h.headers, SESSION_COOKIE);
    if (!session) return fail('no_session', 'not logged in: no jmp_session cookie; log in to the web console first');
    try {
      const identity: Identity = await credentials.issue(session);
      socket.data.identity = identity;
      next();
    } catch (err) {
      if (err instanceof CredentialError) return fail(err.unavailable ? 'unavailable' : 'session_refused', err.message);
      log.error({ err: (err as Error).message }, 'terminal handshake failed');
      fail('unavailable', 'the terminal service failed; try again shortly');
    }
  };
}
