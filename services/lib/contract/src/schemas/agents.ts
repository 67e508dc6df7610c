import { z } from 'zod';
import { DbLevel, Hostname, IpAddress, SshPublicKey, Username } from './primitives.js';

/** Strict: the agent names itself, never its service or host id (those come from the token and the admin). */
export const EnrollRequest = z.strictObject({
  token: z.string().min(16).max(256),
  hostname: Hostname,
  addresses: z.array(IpAddress).min(1).max(64),
  sshHostKeys: z.array(SshPublicKey).max(16),
  /** The agent's ES256 public key, PEM (SPKI). */
  agentPublicKey: z
    .string()
    .max(4096)
    .regex(/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----\s*$/, 'must be a PEM public key'),
});
export const EnrollResponse = z.object({ hostId: z.number(), hostname: z.string() });

export const PolicyUser = z.object({
  username: Username,
  uid: z.number(),
  gid: z.number(),
  gecos: z.string(),
  home: z.string(),
  shell: z.string(),
  groups: z.array(z.string()),
  login: z.boolean(),
  root: z.boolean(),
  /** Database rights on this host; the agent keeps her database accounts in step with them. */
  db: z.object({ mariadb: DbLevel.optional(), redis: DbLevel.optional() }).optional(),
});
export const PolicySnapshot = z.object({
  version: z.literal(1),
  host: z.object({ id: z.number(), hostname: z.string(), state: z.string() }),
  generatedAt: z.string(),
  users: z.array(PolicyUser),
  groups: z.array(z.object({ name: z.string(), gid: z.number(), members: z.array(z.string()) })),
  ticketKeys: z.array(z.object({ kid: z.string(), publicKeyPem: z.string() })),
  failPolicy: z.object({ noSnapshot: z.enum(['deny', 'allow']) }),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;
export type PolicySnapshot = z.infer<typeof PolicySnapshot>;
