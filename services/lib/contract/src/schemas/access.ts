import { z } from 'zod';
import { DbKind, DbLevel } from './primitives.js';

/**
 * The host's agent as people see it, apart from the host's environment:
 * when jmp-api last heard from it, its version, and what it does when it has
 * no policy and cannot reach jmp-api (failMode: deny or allow).
 */
export const AgentLiveness = z.object({
  enrolled: z.boolean(),
  lastSeenAt: z.string().nullable(),
  version: z.string().nullable(),
  failMode: z.enum(['deny', 'allow']),
});
export type AgentLiveness = z.infer<typeof AgentLiveness>;

/** A host a person may log in to, as jmp-ssh's menu and the web console show it. */
export const MyHost = z.object({
  id: z.number(),
  hostname: z.string(),
  addresses: z.array(z.string()),
  state: z.enum(['online', 'offline']),
  kind: z.string(),
  service: z.string().nullable(),
  project: z.string().nullable(),
  root: z.boolean(),
  reason: z.string(),
  /** The databases on this host she may open a terminal to, and at which level (absent: none). */
  databases: z.array(z.object({ kind: DbKind, level: DbLevel })).optional(),
  /** state online is a production host, offline a non-production one (not whether it is reachable). */
  agent: AgentLiveness.optional(),
});
export const MyHosts = z.object({ hosts: z.array(MyHost) });
export type MyHost = z.infer<typeof MyHost>;

/** The words for a host's environment (the model's online/offline), the same in the menu and the console. */
export const environmentLabel = (state: 'online' | 'offline'): string =>
  state === 'online' ? 'production' : 'non-production';

/** An agent polls policy every few seconds; one not heard from in this long is silent. */
export const AGENT_SILENT_AFTER_MS = 5 * 60_000;

/** "4 s", "12 min", "3 h", "2 d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** The agent's liveness in one word (ok, silent, not enrolled) and a short sentence. */
export function agentLiveness(
  agent: AgentLiveness | undefined,
  now = Date.now(),
): { word: 'ok' | 'silent' | 'not enrolled' | 'unknown'; text: string } {
  if (!agent) return { word: 'unknown', text: 'agent unknown' };
  if (!agent.enrolled) return { word: 'not enrolled', text: 'agent not enrolled' };
  const seen = agent.lastSeenAt ? Date.parse(agent.lastSeenAt) : NaN;
  const version = agent.version ? ` ${agent.version}` : '';
  if (Number.isNaN(seen)) return { word: 'silent', text: `agent${version} never seen, fail ${agent.failMode}` };
  const word = now - seen > AGENT_SILENT_AFTER_MS ? 'silent' : 'ok';
  return { word, text: `agent${version} seen ${ago(now - seen)} ago, fail ${agent.failMode}` };
}
