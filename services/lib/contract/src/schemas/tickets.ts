import { z } from 'zod';
import { Username, Hostname } from './primitives.js';

/**
 * `jwt` (the default): an ES256 JWT. `compact`: the same claims in a binary
 * form of at most 200 characters ("jmpc." prefix), for RDP passwords
 * (docs/agent-protocol.md, "Compact tickets").
 */
export const TicketFormat = z.enum(['jwt', 'compact']);
/** jmp-ssh asks for a one-time ticket to log `user` in to `host` (flow 2). */
export const TicketRequest = z.object({
  user: Username,
  host: Hostname,
  session: z.string().uuid().optional(),
  format: TicketFormat.optional(),
});
export const TicketResponse = z.object({
  ticket: z.string(),
  jti: z.string(),
  expiresAt: z.string(),
  host: z.object({
    id: z.number(),
    hostname: z.string(),
    addresses: z.array(z.string()),
    sshHostKeys: z.array(z.string()),
  }),
});
export type TicketFormat = z.infer<typeof TicketFormat>;
export type TicketRequest = z.infer<typeof TicketRequest>;
export type TicketResponse = z.infer<typeof TicketResponse>;
