import { z } from 'zod';
import { Text, Username } from './primitives.js';

export const PamOp = z.enum(['auth', 'account', 'sudo', 'su', 'session_open', 'session_close']);
/** The agent forwards a PAM question; the host is the one the agent's JWT names. */
export const PamDecideRequest = z.object({
  op: PamOp,
  user: Username,
  runas: Username.optional(),
  service: Text.max(64).optional(),
  rhost: Text.max(255).optional(),
  tty: Text.max(64).optional(),
  ticket: Text.max(4096).optional(),
});
export const PamDecideResponse = z.object({ allow: z.boolean(), reason: z.string() });
export type PamOp = z.infer<typeof PamOp>;
export type PamDecideRequest = z.infer<typeof PamDecideRequest>;
export type PamDecideResponse = z.infer<typeof PamDecideResponse>;
