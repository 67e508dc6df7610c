import { z } from 'zod';
import { Username, SshPublicKey } from './primitives.js';
import { WebCredential } from './web.js';

/** jmp-ssh asks whether a login to jmp itself succeeds (flow 1). */
export const AuthSshRequest = z.discriminatedUnion('method', [
  z.object({
    method: z.literal('password'),
    username: Username,
    password: z.string().min(1).max(1024),
    totp: z
      .string()
      .regex(/^\d{6}$/, 'must be 6 digits')
      .optional(),
    source: z.string().max(64).optional(),
  }),
  z.object({
    method: z.literal('publickey'),
    username: Username,
    publicKey: SshPublicKey,
    source: z.string().max(64).optional(),
  }),
  // jmp-socket's one-time credential (docs/web-terminal.md): both factors, used once.
  z.object({
    method: z.literal('web-credential'),
    username: Username,
    credential: WebCredential,
    source: z.string().max(64).optional(),
  }),
]);
export const AuthUser = z.object({
  id: z.number(),
  username: Username,
  uid: z.number(),
  displayName: z.string(),
  email: z.string().nullable(),
  isAdmin: z.boolean(),
  isAuditor: z.boolean(),
});
export const AuthSshResponse = z.object({ ok: z.literal(true), user: AuthUser });

export const AuthWebRequest = z.object({
  username: Username,
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^\d{6}$/, 'must be 6 digits')
    .optional(),
});
export const AuthWebResponse = z.object({
  ok: z.literal(true),
  user: AuthUser,
  csrfToken: z.string(),
  expiresAt: z.string(),
});

export type AuthSshRequest = z.infer<typeof AuthSshRequest>;
export type AuthUser = z.infer<typeof AuthUser>;
export type AuthWebRequest = z.infer<typeof AuthWebRequest>;

// Self-service (/v1/me/…): the person's own second factor, SSH keys and rights.
export const MyTotp = z.object({
  enabled: z.boolean(),
  /** An enrolment started and not yet confirmed with a code. */
  pending: z.boolean(),
});
export const MyTotpStart = z.object({ secret: z.string(), uri: z.string(), expiresAt: z.string() });
export const MyTotpConfirm = z.strictObject({
  code: z.string().regex(/^\d{6}$/, 'must be the 6 digits your app shows'),
});

/** One right and where it comes from: "ops of shop/web", "grant #4 until …", "request #12". */
export const MyRight = z.object({
  scope: z.object({ type: z.enum(['host', 'service', 'project']), id: z.number(), name: z.string() }),
  /** In words: "login", "login + root", "login; root on non-production hosts" (an owner's default). */
  right: z.string(),
  origin: z.string(),
  kind: z.enum(['role', 'grant', 'request']),
  until: z.string().nullable(),
  requestId: z.number().nullable(),
});
export const MyRights = z.object({ items: z.array(MyRight) });
export type MyTotp = z.infer<typeof MyTotp>;
export type MyTotpStart = z.infer<typeof MyTotpStart>;
export type MyRight = z.infer<typeof MyRight>;
