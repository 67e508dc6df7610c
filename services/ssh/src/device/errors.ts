// What can go wrong opening a device, each with the sentence the person sees
// (never the secret) and the audit event jmp-api stores.
export type DeviceErrorKind =
  'unreachable' | 'handshake_failed' | 'host_key_mismatch' | 'login_failed' | 'prompt_timeout';

export class DeviceError extends Error {
  override name = 'DeviceError';
  constructor(
    readonly kind: DeviceErrorKind,
    message: string,
  ) {
    super(message);
  }
}
