// Logins to jmp-ssh and jmp-sftp: public key (signature checked here, key checked by
// jmp-api) or keyboard-interactive (password, then TOTP when the user has one).
// A password starting with `jmpw_` is jmp-socket's one-time web credential
// (both factors, spent once by jmp-api); it also works as password auth.
import ssh2 from 'ssh2';
import type { AuthContext, KeyboardAuthContext, PasswordAuthContext, PublicKeyAuthContext } from 'ssh2';
import { ApiError, type ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import { SSH_REFUSAL_PROMPT, WEB_CREDENTIAL_PREFIX } from '@jmp/contract/schemas/web';

const METHODS: Array<'publickey' | 'keyboard-interactive'> = ['publickey', 'keyboard-interactive'];

/** The SSH key type named inside a public key blob ("ssh-ed25519", ...). */
function blobType(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const n = blob.readUInt32BE(0);
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : null;
}

function ask(ctx: KeyboardAuthContext, prompt: string, echo = false, instructions = ''): Promise<string | undefined> {
  return new Promise((resolve) =>
    ctx.prompt([{ prompt, echo }], 'jmp', instructions, (answers) => resolve(answers[0])),
  );
}

/**
 * Shows a sentence to the person, then refuses. It rides on a prompt the
 * person answers with Enter: clients drop or auto-answer instruction-only
 * requests (ssh2 does), and a visible prompt keeps the sentence on screen.
 */
function refuseWith(ctx: KeyboardAuthContext, message: string): void {
  ctx.prompt([{ prompt: SSH_REFUSAL_PROMPT, echo: true }], 'jmp', `jmp: ${message}`, () => ctx.reject(METHODS));
}

export function authenticator(api: ApiClient, log: Logger, source: () => string, onUser: (u: AuthUser) => void) {
  return async (ctx: AuthContext): Promise<void> => {
    try {
      if (ctx.method === 'publickey') return await publicKey(ctx);
      if (ctx.method === 'keyboard-interactive') return await keyboard(ctx);
      if (ctx.method === 'password') return await webPassword(ctx);
      ctx.reject(METHODS);
    } catch (err) {
      log.error({ err: (err as Error).message, user: ctx.username }, 'authentication failed with an error');
      ctx.reject(METHODS);
    }
  };

  async function publicKey(ctx: PublicKeyAuthContext): Promise<void> {
    // Without a signature the client only asks whether the key would do: say
    // yes and let it prove possession; only a verified signature goes to jmp-api.
    if (!ctx.signature || !ctx.blob) return ctx.accept();
    const type = blobType(ctx.key.data);
    const parsed = ssh2.utils.parseKey(ctx.key.data);
    if (!type || parsed instanceof Error || parsed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true)
      return ctx.reject(METHODS);
    try {
      onUser(
        await api.authSsh({
          method: 'publickey',
          username: ctx.username,
          publicKey: `${type} ${ctx.key.data.toString('base64')}`,
          source: source(),
        }),
      );
      ctx.accept();
    } catch (err) {
      if (err instanceof ApiError && err.httpStatus > 0 && err.httpStatus < 500) return ctx.reject(METHODS);
      throw err;
    }
  }

  /** Asks jmp-api to spend a web credential; the answer is accepted, or a sentence why not (null: refuse silently). */
  async function webCredential(username: string, credential: string): Promise<true | string | null> {
    try {
      onUser(await api.authSsh({ method: 'web-credential', username, credential, source: source() }));
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 'unavailable') return 'jmp is unavailable right now; try again shortly';
      if (err.code === 'unauthorized' || err.code === 'forbidden') return err.message;
      return null;
    }
  }

  /** Password auth is offered to nothing but web credentials: people use keyboard-interactive. */
  async function webPassword(ctx: PasswordAuthContext): Promise<void> {
    if (!ctx.password.startsWith(WEB_CREDENTIAL_PREFIX)) return ctx.reject(METHODS);
    return (await webCredential(ctx.username, ctx.password)) === true ? ctx.accept() : ctx.reject(METHODS);
  }

  async function keyboard(ctx: KeyboardAuthContext): Promise<void> {
    const password = await ask(ctx, 'Password: ');
    if (!password) return ctx.reject(METHODS);
    if (password.startsWith(WEB_CREDENTIAL_PREFIX)) {
      const r = await webCredential(ctx.username, password);
      if (r === true) return ctx.accept();
      return r ? refuseWith(ctx, r) : ctx.reject(METHODS);
    }
    let totp: string | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        onUser(
          await api.authSsh({
            method: 'password',
            username: ctx.username,
            password,
            ...(totp ? { totp } : {}),
            source: source(),
          }),
        );
        return ctx.accept();
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.code === 'totp_required' && !totp) {
          totp = (await ask(ctx, 'TOTP code: ', false))?.trim();
          if (!totp || !/^\d{6}$/.test(totp)) return refuseWith(ctx, 'a TOTP code has 6 digits');
          continue;
        }
        if (err.code === 'locked' || err.code === 'too_many_requests' || err.code === 'forbidden')
          return refuseWith(ctx, err.message);
        if (err.code === 'unavailable') return refuseWith(ctx, 'jmp is unavailable right now; try again shortly');
        if (err.code === 'unauthorized' && totp) return refuseWith(ctx, err.message);
        return ctx.reject(METHODS);
      }
    }
    ctx.reject(METHODS);
  }
}
