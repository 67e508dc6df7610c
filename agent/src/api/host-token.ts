// `Authorization: JMP-Host <jwt>`: ES256, sub = host:<id>, aud = jmp-api,
// lifetime 60 s, signed with the agent's key. One token is reused for 30 s
// so jmp-api can remember it as verified (docs/decisions.md).
import type { KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const HOST_TOKEN_LIFETIME_S = 60;
export const HOST_TOKEN_REUSE_MS = 30_000;

export class HostTokenSigner {
  private cached: { header: string; at: number } | null = null;

  constructor(
    private readonly key: KeyObject,
    readonly hostId: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header value. */
  header(): string {
    const t = this.now();
    if (this.cached && t - this.cached.at < HOST_TOKEN_REUSE_MS && t >= this.cached.at) return this.cached.header;
    const token = jwt.sign({}, this.key, {
      algorithm: 'ES256',
      subject: `host:${this.hostId}`,
      audience: 'jmp-api',
      expiresIn: HOST_TOKEN_LIFETIME_S,
    });
    this.cached = { header: `JMP-Host ${token}`, at: t };
    return this.cached.header;
  }
}
