// Web session → one-time credential for jmp-ssh, from jmp-api
// (POST /v1/web/ssh-credentials, service role `socket`).
import { ApiError, type ApiClient } from '@jmp/contract';
import { WebSshCredentialResponse } from '@jmp/contract/schemas/web';

/** Who a socket belongs to. Holds secrets: never log it. */
export interface Identity {
  username: string;
  /** The jmp_session cookie value, to ask for later credentials. */
  session: string;
  credential: string;
  credentialExpiresAt: number;
  sessionExpiresAt: number;
}

export class CredentialError extends Error {
  constructor(
    message: string,
    readonly unavailable: boolean,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export interface Credentials {
  issue(session: string): Promise<Identity>;
}

export function apiCredentials(api: ApiClient): Credentials {
  return {
    async issue(session) {
      try {
        const r = (await api.request('POST', '/v1/web/ssh-credentials', WebSshCredentialResponse, { session })).data!;
        return {
          username: r.username,
          session,
          credential: r.credential,
          credentialExpiresAt: Date.parse(r.expiresAt),
          sessionExpiresAt: Date.parse(r.sessionExpiresAt),
        };
      } catch (err) {
        if (err instanceof ApiError && (err.httpStatus === 401 || err.httpStatus === 403))
          throw new CredentialError(err.message, false);
        if (err instanceof ApiError) throw new CredentialError('jmp-api unreachable; try again shortly', true);
        throw err;
      }
    },
  };
}

/**
 * The handshake's credential while it has `marginMs` left (the login to
 * jmp-ssh takes a moment), else a new one. Each credential is used once.
 */
export async function takeCredential(credentials: Credentials, id: Identity, marginMs = 10_000): Promise<Identity> {
  if (id.credential && id.credentialExpiresAt - Date.now() > marginMs) return { ...id };
  return credentials.issue(id.session);
}
