import { z } from 'zod';
import { Username, Hostname } from './primitives.js';

/** jmp-ssh asks for a one-time ticket to log `user` in to `host` (flow 2). */
export const TicketRequest = z.object({ user: Username, host: Hostname, session: z.string().uuid().optional() });
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
export type TicketRequest = z.infer<typeof TicketRequest>;
export type TicketResponse = z.infer<typeof TicketResponse>;
