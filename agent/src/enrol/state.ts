// What enrolment leaves behind (state.json): the host id jmp-api assigned,
// the name it registered, the api URL, and the last fail policy jmp-api sent.
// No secret: readable by all (jmp-agent status runs as any user).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../persist/atomic.js';
import { realFs, type FsLayer } from '../persist/fs.js';

export const AgentState = z.object({
  hostId: z.number().int().positive(),
  hostname: z.string(),
  apiUrl: z.string().url(),
  enrolledAt: z.string(),
  /** failPolicy.noSnapshot from the last snapshot: applies if the snapshot is lost. */
  noSnapshot: z.enum(['deny', 'allow']).optional(),
});
export type AgentState = z.infer<typeof AgentState>;

/** The state, or null when the host is not enrolled (no file). Throws for a corrupt file. */
export function readState(path: string): AgentState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = AgentState.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${path}: not a jmp-agent state file (${parsed.error.issues[0]?.message}); enrol again`);
  return parsed.data;
}

export function writeState(path: string, state: AgentState, fsl: FsLayer = realFs): void {
  writeFileAtomic(path, JSON.stringify(state, null, 2) + '\n', 0o644, fsl);
}
