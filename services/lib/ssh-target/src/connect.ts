// Opens a session on a target as the real user: a one-time ticket from
// jmp-api answers pam_jmp's keyboard-interactive prompt; the target's host key
// must be one jmp-api registered for it.
import { Client, type ClientChannel, type PseudoTtyOptions, type SFTPWrapper } from 'ssh2';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { TicketResponse } from '@jmp/contract/schemas/tickets';
import { parseSshPublicKey } from '@jmp/contract/ssh-key';

export interface TargetOptions {
  port: number;
  pty?: PseudoTtyOptions | undefined;
  env?: Record<string, string>;
  command?: string | undefined;
  session?: string;
  readyTimeoutMs?: number;
}
export interface TargetSession {
  client: Client;
  channel: ClientChannel;
  ticket: TicketResponse;
  close(): void;
}

/** A target's SFTP subsystem, opened as the real user (jmp-sftp, jmp-ssh's sftp subsystem). */
export interface TargetSftp {
  client: Client;
  sftp: SFTPWrapper;
  ticket: TicketResponse;
  close(): void;
}

export class TargetError extends Error {}

/**
 * sshd sends PAM's messages (pam_jmp's denial reason) as a keyboard-interactive
 * request without prompts; ssh2 answers those by itself and drops their text.
 * Wrap that one protocol handler to keep the text. Private API: the target
 * tests in the lab fail if an ssh2 upgrade changes it.
 */
function capturePamInfo(client: Client, onText: (text: string) => void): void {
  const proto = (client as unknown as { _protocol?: { _handlers?: Record<string, (...a: unknown[]) => unknown> } })
    ._protocol;
  const original = proto?._handlers?.USERAUTH_INFO_REQUEST;
  if (!proto?._handlers || !original) return;
  proto._handlers.USERAUTH_INFO_REQUEST = (p: unknown, name: unknown, instructions: unknown, prompts: unknown) => {
    if (typeof instructions === 'string' && instructions.trim()) onText(instructions.trim());
    return original(p, name, instructions, prompts);
  };
}

export async function openTarget(
  api: ApiClient,
  user: string,
  hostname: string,
  opts: TargetOptions,
): Promise<TargetSession> {
  const { client, ticket } = await loginTarget(api, user, hostname, opts);
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    const done = (err: Error | undefined, ch: ClientChannel) =>
      err ? reject(new TargetError(`${hostname}: ${err.message}`)) : resolve(ch);
    const env = opts.env ?? {};
    if (opts.command !== undefined) client.exec(opts.command, { env, ...(opts.pty ? { pty: opts.pty } : {}) }, done);
    else client.shell(opts.pty ?? false, { env }, done);
  }).catch((err) => {
    client.end();
    throw err;
  });
  return { client, channel, ticket, close: () => client.end() };
}

/** Logs in as `openTarget` does and opens the target's `sftp` subsystem instead of a shell. */
export async function openTargetSftp(
  api: ApiClient,
  user: string,
  hostname: string,
  opts: Pick<TargetOptions, 'port' | 'session' | 'readyTimeoutMs'>,
): Promise<TargetSftp> {
  const { client, ticket } = await loginTarget(api, user, hostname, opts);
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    client.sftp((err, s) =>
      err ? reject(new TargetError(`${hostname}: no SFTP subsystem: ${err.message}`)) : resolve(s),
    );
  }).catch((err) => {
    client.end();
    throw err;
  });
  return { client, sftp, ticket, close: () => client.end() };
}

/** Mints a ticket and logs in to the target's sshd with it; the connection is ready for channels. */
async function loginTarget(
  api: ApiClient,
  user: string,
  hostname: string,
  opts: Pick<TargetOptions, 'port' | 'session' | 'readyTimeoutMs'>,
): Promise<{ client: Client; ticket: TicketResponse }> {
  let ticket: TicketResponse;
  try {
    ticket = await api.ticket({ user, host: hostname, ...(opts.session ? { session: opts.session } : {}) });
  } catch (err) {
    throw new TargetError(err instanceof ApiError ? err.message : `could not get a ticket: ${(err as Error).message}`);
  }
  const known = ticket.host.sshHostKeys.flatMap((line) => {
    const k = parseSshPublicKey(line);
    return typeof k === 'string' ? [] : [k.blob];
  });
  if (known.length === 0)
    throw new TargetError(`jmp has no SSH host key for ${hostname}; its agent must be enrolled first`);
  const address = ticket.host.addresses[0];
  if (!address) throw new TargetError(`jmp has no address for ${hostname}`);

  const client = new Client();
  let pamMessage = '';
  let hostKeyMismatch = false;
  await new Promise<void>((resolve, reject) => {
    client.on('keyboard-interactive', (_name, instructions, _lang, prompts, finish) => {
      if (instructions) pamMessage = instructions.trim();
      // Only pam_jmp's prompt gets the ticket; anything else gets nothing.
      finish(prompts.map((p) => (/jmp ticket/i.test(p.prompt) ? ticket.ticket : '')));
    });
    client.once('ready', () => resolve());
    // `on`, not `once`: ssh2 can emit a second error (a handshake timeout, then
    // "Connection lost before handshake"), and later ones after login; an
    // 'error' without a listener would end the whole jmp-ssh process. Only the
    // first settles the promise; the session's close handlers do the rest.
    client.on('error', (err) => {
      if (hostKeyMismatch)
        reject(
          new TargetError(`the SSH host key of ${hostname} is not the one jmp has registered; refusing to connect`),
        );
      else if ((err as { level?: string }).level === 'client-authentication')
        reject(new TargetError(pamMessage || `${hostname} refused the login`));
      else reject(new TargetError(`cannot reach ${hostname} (${address}): ${err.message}`));
    });
    client.connect({
      host: address,
      port: opts.port,
      username: user,
      tryKeyboard: true,
      readyTimeout: opts.readyTimeoutMs ?? 10_000,
      hostVerifier: (key: Buffer) => {
        const ok = known.some((k) => k.equals(key));
        if (!ok) hostKeyMismatch = true;
        return ok;
      },
    });
    capturePamInfo(client, (text) => {
      pamMessage = text;
    });
  });

  return { client, ticket };
}
