// The web terminal: the one-time web credential (jmp-api ⇄ jmp-socket ⇄
// jmp-ssh) and the socket.io events between the browser and jmp-socket
// (docs/web-terminal.md). Only zod here: the console imports this file too.
import { z } from 'zod';
import { Username, Hostname, IsoTime } from './primitives.js';

/** `jmpw_` + 32 random bytes in base64url: what jmp-socket logs in to jmp-ssh with. */
export const WEB_CREDENTIAL_PREFIX = 'jmpw_';
export const WebCredential = z
  .string()
  .regex(/^jmpw_[A-Za-z0-9_-]{43}$/, 'must be a web credential (jmpw_ and 43 base64url characters)');

/** jmp-socket hands over the browser's session cookie value. */
export const WebSshCredentialRequest = z.object({
  session: z.string().min(1, 'must be the jmp_session cookie value').max(4096),
});
export const WebSshCredentialResponse = z.object({
  username: Username,
  credential: WebCredential,
  /** When the credential stops working (about 30 s after it was issued). */
  expiresAt: IsoTime,
  /** When the web session itself ends: jmp-socket closes its terminals then. */
  sessionExpiresAt: IsoTime,
});

/**
 * The prompt jmp-ssh shows with a refusal in its instructions ("jmp: why");
 * jmp-socket turns that round into an `exit` with the sentence.
 */
export const SSH_REFUSAL_PROMPT = 'Press Enter to close: ';

// ---- socket.io, namespace /terminal ----

export const TERMINAL_NAMESPACE = '/terminal';
/** Unacknowledged output bytes per terminal before jmp-socket pauses the ssh channel. */
export const TERMINAL_WINDOW_BYTES = 256 * 1024;
/** Largest input message (`data`) the page may send; split larger pastes. */
export const TERMINAL_INPUT_MAX_BYTES = 64 * 1024;

const Cols = z.number().int().min(2, 'must be at least 2').max(1000, 'must be at most 1000');
const Rows = z.number().int().min(1, 'must be at least 1').max(500, 'must be at most 500');

export const TerminalOpen = z.object({
  /** null: the jump-shell menu; a host name: straight to that host. */
  host: Hostname.nullable(),
  cols: Cols,
  rows: Rows,
});
export const TerminalOpenAck = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export const TerminalResize = z.object({ cols: Cols, rows: Rows });
export const TerminalPrompt = z.object({
  name: z.string(),
  instructions: z.string(),
  prompts: z.array(z.object({ prompt: z.string(), echo: z.boolean() })),
});
export const TerminalAnswer = z.array(z.string().max(1024, 'must be at most 1024 characters')).max(16);
export const TerminalExit = z.object({ reason: z.string() });

export type WebSshCredentialRequest = z.infer<typeof WebSshCredentialRequest>;
export type WebSshCredentialResponse = z.infer<typeof WebSshCredentialResponse>;
export type TerminalOpen = z.infer<typeof TerminalOpen>;
export type TerminalOpenAck = z.infer<typeof TerminalOpenAck>;
export type TerminalResize = z.infer<typeof TerminalResize>;
export type TerminalPrompt = z.infer<typeof TerminalPrompt>;
export type TerminalExit = z.infer<typeof TerminalExit>;

/** The events as typed maps for socket.io's Server / Socket generics. */
export interface TerminalClientEvents {
  open(req: TerminalOpen, ack: (r: TerminalOpenAck) => void): void;
  data(chunk: string | ArrayBuffer | Uint8Array): void;
  resize(size: TerminalResize): void;
  answer(answers: string[]): void;
}
export interface TerminalServerEvents {
  data(chunk: Uint8Array, ack: () => void): void;
  prompt(p: TerminalPrompt): void;
  exit(e: TerminalExit): void;
}
