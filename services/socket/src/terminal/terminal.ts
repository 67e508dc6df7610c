// One socket = one terminal: an ssh2 client logged in to jmp-ssh with a
// one-time web credential, one pty channel (the menu, or one host), output
// with back-pressure, input, resize, relayed login prompts, and a sentence
// when it ends. The jump shell, guard and recording are jmp-ssh's own.
import { Client, type ClientChannel, type Prompt } from 'ssh2';
import type { Socket } from 'socket.io';
import type { Logger } from '@jmp/runtime';
import {
  SSH_REFUSAL_PROMPT,
  TERMINAL_INPUT_MAX_BYTES,
  TERMINAL_WINDOW_BYTES,
  TerminalAnswer,
  TerminalOpen,
  TerminalResize,
  type TerminalOpenAck,
  type TerminalPrompt,
} from '@jmp/contract/schemas/web';
import { CredentialError, takeCredential, type Credentials, type Identity } from './credentials.js';
import { OutputWindow } from './output-window.js';
import type { SocketMetrics } from '../metrics.js';

export const REASONS = {
  ended: 'session ended',
  unreachable: 'jmp-ssh unreachable',
  lost: 'the connection to jmp-ssh was lost',
  sessionExpired: 'your web session expired, log in again',
  stopping: 'jmp-socket is restarting; open the terminal again',
  hostKey: "jmp-ssh's host key is not the configured one (JMP_SSH_HOST_KEY); ask an administrator",
} as const;

/** Input jmp-ssh has not taken yet; beyond it the page is flooding. */
const INPUT_BACKLOG_MAX = 1024 * 1024;

export interface TerminalDeps {
  ssh: { host: string; port: number; verifyHostKey(blob: Buffer): boolean };
  credentials: Credentials;
  log: Logger;
  metrics: SocketMetrics;
  windowBytes?: number;
  connectTimeoutMs?: number;
  answerTimeoutMs?: number;
}

export interface TerminalHandle {
  end(reason: string): void;
}

type State = 'idle' | 'opening' | 'open' | 'ended';

const firstIssue = (what: string, e: { issues: Array<{ path: PropertyKey[]; message: string }> }) => {
  const i = e.issues[0];
  const path = i?.path.length ? `${what}.${i.path.join('.')}` : what;
  return `${path}: ${i?.message ?? 'is invalid'}`;
};

function asBytes(raw: unknown): Buffer | null {
  if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
  if (Buffer.isBuffer(raw)) return raw;
  if (raw instanceof ArrayBuffer) return Buffer.from(raw);
  if (ArrayBuffer.isView(raw)) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  return null;
}

export function attachTerminal(socket: Socket, deps: TerminalDeps): TerminalHandle {
  const { log, metrics } = deps;
  const windowBytes = deps.windowBytes ?? TERMINAL_WINDOW_BYTES;
  const answerTimeoutMs = deps.answerTimeoutMs ?? 120_000;
  const identity = socket.data.identity as Identity;
  const who = { user: identity.username, socket: socket.id };
  let state: State = 'idle';
  let client: Client | null = null;
  let channel: ClientChannel | null = null;
  let output: OutputWindow | null = null;
  let openAck: ((r: TerminalOpenAck) => void) | null = null;
  let pendingAnswer: { finish: (answers: string[]) => void; count: number; timer: NodeJS.Timeout } | null = null;
  let size: { cols: number; rows: number } | null = null;

  // A terminal lives no longer than the web session that opened it.
  const sessionTimer = setTimeout(
    () => end(REASONS.sessionExpired, 'session_expired'),
    Math.min(Math.max(identity.sessionExpiresAt - Date.now(), 0), 2 ** 31 - 1),
  );

  function end(reason: string, metricReason = 'other'): void {
    if (state === 'ended') return;
    const wasOpen = state === 'open';
    state = 'ended';
    clearTimeout(sessionTimer);
    if (pendingAnswer) clearTimeout(pendingAnswer.timer);
    pendingAnswer = null;
    openAck?.({ ok: false, error: reason });
    openAck = null;
    if (output) {
      metrics.unackedBytes.dec(output.pending);
      if (output.isPaused) metrics.pausedTerminals.dec();
    }
    if (wasOpen) metrics.terminals.dec();
    metrics.terminalsEnded.inc({ reason: metricReason });
    log.info({ ...who, reason }, 'terminal ended');
    if (socket.connected) {
      socket.emit('exit', { reason });
      socket.disconnect(true);
    }
    client?.end();
  }

  socket.on('disconnect', () => end('the page closed the terminal', 'page_closed'));

  socket.on('open', async (raw: unknown, ack: unknown) => {
    const reply = typeof ack === 'function' ? (ack as (r: TerminalOpenAck) => void) : () => {};
    if (state !== 'idle')
      return reply({ ok: false, error: 'this socket already has a terminal; open a new socket for another one' });
    const req = TerminalOpen.safeParse(raw);
    if (!req.success) return reply({ ok: false, error: firstIssue('open', req.error) });
    state = 'opening';
    openAck = reply;
    size = { cols: req.data.cols, rows: req.data.rows };
    let id: Identity;
    try {
      id = await takeCredential(deps.credentials, identity);
      identity.credential = ''; // spent or stale either way: a later open would fetch its own
    } catch (err) {
      return end(
        err instanceof CredentialError ? err.message : 'the terminal service failed; try again shortly',
        'credential',
      );
    }
    if (state === 'opening') connect(id, req.data.host);
  });

  socket.on('answer', (raw: unknown) => {
    if (!pendingAnswer) return; // nothing was asked
    const p = TerminalAnswer.safeParse(raw);
    if (!p.success || p.data.length !== pendingAnswer.count) {
      return end(`answer: must be a list of ${pendingAnswer.count} string(s) of at most 1024 characters`, 'bad_input');
    }
    const { finish, timer } = pendingAnswer;
    pendingAnswer = null;
    clearTimeout(timer);
    finish(p.data);
  });

  socket.on('resize', (raw: unknown) => {
    const p = TerminalResize.safeParse(raw);
    // A hidden terminal element measures 0x0; such a size is ignored, not fatal.
    if (!p.success) {
      log.debug({ ...who, why: firstIssue('resize', p.error) }, 'resize ignored');
      return;
    }
    size = p.data;
    if (state === 'open') channel!.setWindow(p.data.rows, p.data.cols, 0, 0);
  });

  socket.on('data', (raw: unknown) => {
    if (state !== 'open') return;
    const bytes = asBytes(raw);
    if (!bytes) return end('data: must be a string or bytes', 'bad_input');
    if (bytes.length > TERMINAL_INPUT_MAX_BYTES)
      return end(
        `data: a message is larger than ${TERMINAL_INPUT_MAX_BYTES / 1024} KiB; send input in smaller pieces`,
        'bad_input',
      );
    channel!.write(bytes);
    if (channel!.writableLength > INPUT_BACKLOG_MAX)
      end('input arrives faster than the host takes it; terminal closed', 'input_flood');
  });

  function connect(id: Identity, host: string | null): void {
    const c = new Client();
    client = c;
    let hostKeyOk = true;
    let refusal: string | null = null;
    let round = 0;
    const connectTimer = setTimeout(() => end(REASONS.unreachable, 'ssh_unreachable'), deps.connectTimeoutMs ?? 10_000);

    c.on('handshake', () => clearTimeout(connectTimer));
    c.on(
      'keyboard-interactive',
      (name: string, instructions: string, _lang: string, prompts: Prompt[], finish: (answers: string[]) => void) => {
        round++;
        const only = prompts.length === 1 ? prompts[0]! : null;
        // jmp-ssh's first question is the password: the credential answers it.
        if (round === 1 && only && /password/i.test(only.prompt) && !only.echo) return finish([id.credential]);
        // jmp-ssh's refusal: its sentence becomes the exit reason.
        if (only?.prompt === SSH_REFUSAL_PROMPT && instructions) {
          refusal = instructions.replace(/^jmp:\s*/, '');
          return finish(['']);
        }
        const prompt: TerminalPrompt = {
          name,
          instructions,
          prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
        };
        socket.emit('prompt', prompt);
        if (!prompts.length) return finish([]);
        pendingAnswer = {
          finish,
          count: prompts.length,
          timer: setTimeout(
            () => end(`no answer to the login prompt within ${Math.round(answerTimeoutMs / 1000)} s`, 'prompt_timeout'),
            answerTimeoutMs,
          ),
        };
      },
    );
    c.on('ready', () => {
      if (state !== 'opening') return;
      const pty = { term: 'xterm-256color', cols: size!.cols, rows: size!.rows, width: 0, height: 0 };
      const opened = (err: Error | undefined, ch: ClientChannel) => {
        if (err) return end(`jmp-ssh refused the terminal: ${err.message}`, 'ssh_refused');
        if (state !== 'opening') {
          ch.close();
          return;
        }
        onChannel(ch);
      };
      if (host === null) c.shell(pty, opened);
      else c.exec(host, { pty }, opened);
    });
    c.on('error', (err: Error & { level?: string }) => {
      clearTimeout(connectTimer);
      if (!hostKeyOk) return end(REASONS.hostKey, 'host_key');
      if (err.level === 'client-authentication') return end(refusal ?? 'jmp-ssh refused the login', 'login_refused');
      if (state === 'open') return end(REASONS.lost, 'ssh_lost');
      log.warn({ ...who, err: err.message, level: err.level }, 'connection to jmp-ssh failed');
      end(REASONS.unreachable, 'ssh_unreachable');
    });
    c.on('close', () => {
      clearTimeout(connectTimer);
      end(
        state === 'open' ? REASONS.lost : (refusal ?? REASONS.unreachable),
        state === 'open' ? 'ssh_lost' : 'ssh_unreachable',
      );
    });
    c.connect({
      host: deps.ssh.host,
      port: deps.ssh.port,
      username: id.username,
      tryKeyboard: true,
      authHandler: ['keyboard-interactive'],
      hostVerifier: (key: Buffer) => (hostKeyOk = deps.ssh.verifyHostKey(key)),
      // Covers the login including prompts the person answers on the page.
      readyTimeout: answerTimeoutMs + 30_000,
      keepaliveInterval: 30_000,
    });
  }

  function onChannel(ch: ClientChannel): void {
    channel = ch;
    state = 'open';
    metrics.terminals.inc();
    log.info(who, 'terminal open');
    openAck?.({ ok: true });
    openAck = null;
    output = new OutputWindow(
      windowBytes,
      () => {
        ch.pause();
        ch.stderr.pause();
        metrics.pausedTerminals.inc();
      },
      () => {
        ch.resume();
        ch.stderr.resume();
        metrics.pausedTerminals.dec();
      },
    );
    const forward = (chunk: Buffer) => {
      if (state !== 'open') return;
      const ack = output!.sent(chunk.length);
      metrics.unackedBytes.inc(chunk.length);
      metrics.outputBytes.inc(chunk.length);
      socket.emit('data', chunk, () => {
        if (state !== 'open') return; // counted off in end()
        metrics.unackedBytes.dec(chunk.length);
        ack();
      });
    };
    ch.on('data', forward);
    ch.stderr.on('data', forward);
    let code: number | null = null;
    ch.on('exit', (c: number | null) => {
      code = c;
    });
    ch.on('close', () => end(code ? `${REASONS.ended} (exit code ${code})` : REASONS.ended, 'session_ended'));
  }

  return { end: (reason) => end(reason, 'stopping') };
}
