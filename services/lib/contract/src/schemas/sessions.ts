import { z } from 'zod';
import { Username, Hostname } from './primitives.js';

export const SessionProtocol = z.enum(['ssh', 'web', 'rdp', 'sftp']);
export const Verdict = z.enum(['pass', 'alert', 'block', 'skipped']);

/** jmp-ssh opens a session row when a target session starts. */
export const SessionStart = z.object({
  id: z.string().uuid(),
  user: Username,
  host: Hostname,
  protocol: SessionProtocol.default('ssh'),
  sourceAddress: z.string().max(64).optional(),
  instance: z.string().max(128).optional(),
  /** Refuse (409) when the person already has this many live sessions on any instance. */
  maxPerUser: z.number().int().min(1).max(100_000).optional(),
  /** A hop (DESIGN flow 11): the person's live session it was started from; refused (400) unless it is one. */
  parentSession: z.string().uuid().optional(),
});
export const SessionEnd = z.object({
  bytesIn: z.number().int().min(0),
  bytesOut: z.number().int().min(0),
  endReason: z.string().max(64),
  recordingUri: z.string().max(1024).optional(),
});
export const CommandRecord = z.object({
  at: z.iso.datetime({ offset: true }),
  line: z.string().max(1_000_000),
  verdict: Verdict,
  ruleId: z.number().int().positive().optional(),
  ruleName: z.string().max(128).optional(),
  severity: z.string().max(16).optional(),
});
export const CommandBatch = z.object({ commands: z.array(CommandRecord).min(1).max(500) });
/** Every second each jmp-ssh instance names its live sessions; jmp-api answers which to end. */
export const Heartbeat = z.object({ instance: z.string().max(128), sessions: z.array(z.string().uuid()).max(20_000) });
export const HeartbeatAnswer = z.object({
  end: z.array(z.object({ id: z.string().uuid(), reason: z.string() })),
  /** Sessions someone watches now: jmp-ssh sends their output (POST /v1/sessions/:id/output); notice: tell the person. */
  watched: z.array(z.object({ id: z.string().uuid(), notice: z.boolean() })).optional(),
});
/** A piece of a watched session's output, base64 (jmp-ssh → jmp-api → the watching console). */
export const LiveOutput = z.object({ chunks: z.array(z.string().max(200_000)).min(1).max(64) });
export const WatchQuery = z.object({ after: z.coerce.number().int().min(0).optional() });
export const WatchAnswer = z.object({
  /** Output after `after`, oldest first; `next` is the cursor for the next call. */
  chunks: z.array(z.string()),
  next: z.number(),
  live: z.boolean(),
});
export const EndSessionRequest = z.object({ reason: z.string().max(256).default('ended by an administrator') });

export const GuardRule = z.object({
  id: z.number(),
  name: z.string(),
  pattern: z.string(),
  action: z.enum(['alert', 'block']),
  severity: z.string(),
  list: z.enum(['deny', 'allow']),
});
export const HostRules = z.object({
  host: z.string(),
  mode: z.enum(['deny-list', 'allow-list']),
  rules: z.array(GuardRule),
});

export const SessionView = z.object({
  id: z.string(),
  user: z.string().nullable(),
  host: z.string().nullable(),
  protocol: z.string(),
  sourceAddress: z.string().nullable(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  endReason: z.string().nullable(),
  recordingUri: z.string().nullable(),
  live: z.boolean(),
  /** The session a hop was started from. */
  parentSession: z.string().nullable(),
});
export const SessionList = z.object({ items: z.array(SessionView), total: z.number() });
export const SessionQuery = z.object({
  user: Username.optional(),
  host: z.string().max(253).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  verdict: Verdict.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
export const CommandView = z.object({
  id: z.number(),
  at: z.string(),
  line: z.string(),
  verdict: Verdict,
  ruleId: z.number().nullable(),
});
export const SessionDetail = z.object({ session: SessionView, commands: z.array(CommandView) });

export type SessionStart = z.infer<typeof SessionStart>;
export type SessionEnd = z.infer<typeof SessionEnd>;
export type CommandRecord = z.infer<typeof CommandRecord>;
export type HostRules = z.infer<typeof HostRules>;
export type GuardRule = z.infer<typeof GuardRule>;
