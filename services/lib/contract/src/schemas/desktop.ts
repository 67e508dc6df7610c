import { z } from 'zod';
import { Hostname, Username } from './primitives.js';

/**
 * How a desktop logs the person in: `ticket` (Linux, xrdp-sesman runs pam_jmp
 * and the RDP password is a compact one-time ticket) or `typed` (Windows: the
 * person types the credentials in the page for that one connection).
 */
export const DesktopCredentials = z.enum(['ticket', 'typed']);

/** The console asks for a desktop of a host (the person's web session is the caller). */
export const DesktopTokenRequest = z.object({ host: Hostname });
export const DesktopTokenResponse = z.object({
  /** guacamole-lite's token format (AES-256-CBC); single use, bound to the person and the host. */
  token: z.string(),
  expiresAt: z.string(),
  host: z.string(),
  credentials: DesktopCredentials,
});

/** jmp-rdp redeems a token before it upgrades the WebSocket: once, by the person it was issued to. */
export const DesktopRedeemRequest = z.object({
  token: z.string().min(1).max(4096),
  /** The browser's web session (jmp_session cookie): the token must belong to its user. */
  session: z.string().min(1).max(4096),
});
export const DesktopPolicy = z.object({ clipboard: z.boolean(), drive: z.boolean() });
export const DesktopRedeemResponse = z.object({
  user: Username,
  jti: z.string(),
  host: z.object({
    id: z.number(),
    hostname: z.string(),
    kind: z.string(),
    address: z.string(),
    port: z.number().int().min(1).max(65535),
  }),
  credentials: DesktopCredentials,
  policy: DesktopPolicy,
});

export type DesktopCredentials = z.infer<typeof DesktopCredentials>;
export type DesktopTokenRequest = z.infer<typeof DesktopTokenRequest>;
export type DesktopTokenResponse = z.infer<typeof DesktopTokenResponse>;
export type DesktopRedeemRequest = z.infer<typeof DesktopRedeemRequest>;
export type DesktopRedeemResponse = z.infer<typeof DesktopRedeemResponse>;
export type DesktopPolicy = z.infer<typeof DesktopPolicy>;
