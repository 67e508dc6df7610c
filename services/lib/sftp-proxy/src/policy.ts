// What a host's service allows through file transfer, beyond the login right
// every access needs: everything, downloads only (production hosts), or
// nothing. Pure: the proxy asks before it forwards; a refusal is
// SSH_FX_PERMISSION_DENIED with this sentence, and is audited.

export const TRANSFER_MODES = ['full', 'download', 'none'] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

/** SFTP v3 open flags (draft-ietf-secsh-filexfer-02 §6.3). */
export const OPEN_FLAGS = { READ: 0x1, WRITE: 0x2, APPEND: 0x4, CREAT: 0x8, TRUNC: 0x10, EXCL: 0x20 } as const;

/** True when an open can change the file (anything but plain READ). */
export function opensForWrite(flags: number): boolean {
  return (flags & (OPEN_FLAGS.WRITE | OPEN_FLAGS.APPEND | OPEN_FLAGS.CREAT | OPEN_FLAGS.TRUNC)) !== 0;
}

/** What an operation does to a host's files. */
export type Access = 'list' | 'read' | 'write';

/** Null when `mode` allows `access` on `host`, else the sentence why not. */
export function refusal(mode: TransferMode, access: Access, host: string): string | null {
  if (access === 'list') return null;
  if (mode === 'none') return `file transfer is turned off for ${host} (its service allows none)`;
  if (mode === 'download' && access === 'write')
    return `${host} is download-only: its service allows no uploads or changes`;
  return null;
}
