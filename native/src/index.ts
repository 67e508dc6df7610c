// jmp-native: typed loader for the addon (native/build/Release/jmp_native.node).
//
//   import { peerCred, pam } from '@jmp/native';
//
// The addon is loaded on first use, so importing this module never fails; a
// missing build is reported with the command that makes it.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * The addon: `JMP_NATIVE_ADDON` when set; else `jmp_native.node` beside this
 * file when it is a bundle (dist/, or the packaged /usr/lib/jmp-agent/); else
 * where `make native-build` (cmake-js) puts it.
 */
export const ADDON_PATH = addonPath();

function addonPath(): string {
  if (process.env.JMP_NATIVE_ADDON) return process.env.JMP_NATIVE_ADDON;
  const beside = fileURLToPath(new URL('./jmp_native.node', import.meta.url));
  if (existsSync(beside)) return beside;
  const inBuild = fileURLToPath(new URL('../build/Release/jmp_native.node', import.meta.url));
  if (existsSync(inBuild)) return inBuild;
  // Running from a bundle in dist/ of a source tree.
  return fileURLToPath(new URL('../native/build/Release/jmp_native.node', import.meta.url));
}

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

export type PamMessageStyle = 'prompt_echo_off' | 'prompt_echo_on' | 'error' | 'info';

export interface PamMessage {
  style: PamMessageStyle;
  /** The message text, cut to 1 KiB (on a UTF-8 boundary). */
  text: string;
}

export interface PamAuthenticateOptions {
  /** PAM service name: the file read from `confdir` (or /etc/pam.d). */
  service: string;
  user: string;
  /**
   * Directory of service files (pam_start_confdir). Omit for the system
   * default. `@include`/`include` inside it still resolve against /etc/pam.d:
   * use absolute paths.
   */
  confdir?: string;
  /** Answers to the prompts (echo off and on), in order. A prompt with no answer left fails the conversation (PAM_CONV_ERR). */
  answers?: readonly string[];
  rhost?: string;
  tty?: string;
  ruser?: string;
}

/** The PAM constant names (Linux-PAM 1.5), plus PAM_UNKNOWN_CODE for anything else. */
export type PamResultName =
  | 'PAM_SUCCESS'
  | 'PAM_OPEN_ERR'
  | 'PAM_SYMBOL_ERR'
  | 'PAM_SERVICE_ERR'
  | 'PAM_SYSTEM_ERR'
  | 'PAM_BUF_ERR'
  | 'PAM_PERM_DENIED'
  | 'PAM_AUTH_ERR'
  | 'PAM_CRED_INSUFFICIENT'
  | 'PAM_AUTHINFO_UNAVAIL'
  | 'PAM_USER_UNKNOWN'
  | 'PAM_MAXTRIES'
  | 'PAM_NEW_AUTHTOK_REQD'
  | 'PAM_ACCT_EXPIRED'
  | 'PAM_SESSION_ERR'
  | 'PAM_CRED_UNAVAIL'
  | 'PAM_CRED_EXPIRED'
  | 'PAM_CRED_ERR'
  | 'PAM_NO_MODULE_DATA'
  | 'PAM_CONV_ERR'
  | 'PAM_AUTHTOK_ERR'
  | 'PAM_AUTHTOK_RECOVERY_ERR'
  | 'PAM_AUTHTOK_LOCK_BUSY'
  | 'PAM_AUTHTOK_DISABLE_AGING'
  | 'PAM_TRY_AGAIN'
  | 'PAM_IGNORE'
  | 'PAM_ABORT'
  | 'PAM_AUTHTOK_EXPIRED'
  | 'PAM_MODULE_UNKNOWN'
  | 'PAM_BAD_ITEM'
  | 'PAM_CONV_AGAIN'
  | 'PAM_INCOMPLETE'
  | 'PAM_UNKNOWN_CODE';

/**
 * The step that produced `result`: `start` (pam_start_confdir), `set_item`
 * (RHOST/TTY/RUSER), `authenticate` (pam_authenticate) or `account`
 * (pam_acct_mgmt, run only after a successful authenticate). A success
 * always reports `account`.
 */
export type PamStep = 'start' | 'set_item' | 'authenticate' | 'account';

export interface PamResult {
  result: PamResultName;
  /** The numeric PAM code of `result`. */
  code: number;
  step: PamStep;
  /** Every conversation message in order (prompts included), at most 32. */
  messages: PamMessage[];
  /** Messages beyond the 32 recorded (they were still answered). */
  messagesDropped: number;
  /** How many of `answers` the conversation consumed. */
  answersUsed: number;
}

interface Addon {
  peerCredFd(fd: number): PeerCred;
  pamAuthenticate(options: PamAuthenticateOptions): Promise<PamResult>;
}

export class NativeAddonMissingError extends Error {
  constructor(cause: unknown) {
    super(
      `jmp-native: the addon is not built (${ADDON_PATH} is missing or does not load). ` +
        'Run `make native-build` from the repository root.',
      { cause },
    );
    this.name = 'NativeAddonMissingError';
  }
}

let addon: Addon | undefined;

/** Loads the addon (once). Throws NativeAddonMissingError with the fix when it is absent. */
export function loadAddon(): Addon {
  if (addon) return addon;
  if (!existsSync(ADDON_PATH)) throw new NativeAddonMissingError(undefined);
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  } catch (err) {
    throw new NativeAddonMissingError(err);
  }
  return addon;
}

/** True when the addon is built and loads. */
export function isAddonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * The credentials (SO_PEERCRED) of the process at the other end of a
 * connected unix-domain socket, as the kernel recorded them at connect().
 * Throws TypeError for a non-socket, Error for a socket that is destroyed,
 * not connected, or not AF_UNIX (e.g. TCP).
 */
export function peerCred(socket: Socket): PeerCred {
  if (!(socket instanceof Socket)) throw new TypeError('peerCred: expected a net.Socket');
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  if (!handle) throw new Error('peerCred: the socket is destroyed or not connected (it has no handle)');
  const fd = handle.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new Error('peerCred: the socket has no file descriptor (is it a unix-domain socket on Linux?)');
  }
  return loadAddon().peerCredFd(fd);
}

export const pam = {
  /**
   * pam_start_confdir → pam_set_item (RHOST, TTY, RUSER) → pam_authenticate →
   * (on success) pam_acct_mgmt → pam_end, on the libuv thread pool. Resolves
   * with the PAM result whatever it is; rejects only for bad options
   * (TypeError, thrown synchronously by the addon and surfaced as a rejection)
   * or a missing addon.
   */
  async authenticate(options: PamAuthenticateOptions): Promise<PamResult> {
    return loadAddon().pamAuthenticate(options);
  },
};
