// SFTP v3 status codes and how a target's answer becomes the client's.
import ssh2 from 'ssh2';

export const STATUS = ssh2.utils.sftp.STATUS_CODE;

/** A status and its sentence; the target's own codes pass through. */
export interface Status {
  code: number;
  message: string;
}

/** ssh2's error from a target request: its SFTP status when the target answered one, else the connection is gone. */
export function fromTargetError(err: Error & { code?: unknown }): Status {
  if (typeof err.code === 'number' && err.code >= 1 && err.code <= 8) return { code: err.code, message: err.message };
  return { code: STATUS.CONNECTION_LOST, message: `the connection to the host was lost (${err.message})` };
}
