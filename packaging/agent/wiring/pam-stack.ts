// Where pam_jmp goes in a PAM service file, as pure text edits.
//
// Local accounts must never be locked out, so jmp's lines only act on
// people jmp knows: every jmp user on a host is in the group jmp-users
// (written by the agent's NSS cache); anyone else skips pam_jmp and meets
// the distribution's stack (pam_unix) unchanged. For su the target is
// usually root, so there pam_jmp asks for every caller and a "no" falls
// through to the target's password instead of ending the stack.
import { block, splitKeepingEnds, stripBlocks } from './markers.js';

export type PamService = 'sshd' | 'xrdp-sesman' | 'sudo' | 'sudo-i' | 'su';
type Phase = 'auth' | 'account' | 'session';

const SKIP_UNLESS_JMP_USER = 'pam_succeed_if.so quiet user notingroup jmp-users';
const PAM_JMP = 'pam_jmp.so';

/** jmp's lines per phase for one service. */
function jmpLines(service: PamService): Partial<Record<Phase, string[]>> {
  switch (service) {
    // Linux desktops: xrdp-sesman answers pam_jmp's ECHO_OFF prompt with the RDP password (a compact ticket).
    case 'sshd':
    case 'xrdp-sesman':
      return {
        auth: [`auth    [success=1 default=ignore] ${SKIP_UNLESS_JMP_USER}`, `auth    [success=done ignore=ignore default=die] ${PAM_JMP}`],
        account: [`account [success=1 default=ignore] ${SKIP_UNLESS_JMP_USER}`, `account required ${PAM_JMP}`],
        session: [
          `session [success=2 default=ignore] ${SKIP_UNLESS_JMP_USER}`,
          'session optional pam_mkhomedir.so skel=/etc/skel umask=0077',
          `session optional ${PAM_JMP}`,
        ],
      };
    case 'sudo':
    case 'sudo-i':
      // sudo authenticates the invoking user: PAM_USER is the caller.
      return { auth: [`auth    [success=1 default=ignore] ${SKIP_UNLESS_JMP_USER}`, `auth    [success=done ignore=ignore default=die] ${PAM_JMP}`] };
    case 'su':
      return { auth: [`auth    [success=done default=ignore] ${PAM_JMP}`] };
  }
}

/** Is this line where the distribution's stack for `phase` starts (Debian @include, Red Hat include/substack)? */
function isAnchor(line: string, phase: Phase): boolean {
  const words = line.trim().split(/\s+/);
  if (words[0] === '@include') return words[1] === `common-${phase}`;
  return words[0] === phase && (words[1] === 'include' || words[1] === 'substack') &&
    (words[2] === 'system-auth' || words[2] === 'password-auth');
}

export class PamWiringError extends Error {}

/**
 * The file with jmp's lines in place: any old jmp block is removed first, so
 * wiring twice (an upgrade) gives the same bytes and never duplicates a line.
 */
export function wirePam(text: string, service: PamService, fileName: string): string {
  const lines = splitKeepingEnds(stripBlocks(text));
  const want = jmpLines(service);
  for (const phase of Object.keys(want) as Phase[]) {
    const at = lines.findIndex((l) => isAnchor(l, phase));
    if (at < 0) {
      throw new PamWiringError(`${fileName}: no "@include common-${phase}" (or "${phase} include system-auth") line to put pam_jmp before; wire it by hand (see packaging/README.md)`);
    }
    if (at > 0 && !lines[at - 1]!.endsWith('\n')) lines[at - 1] += '\n';
    lines.splice(at, 0, block(want[phase]!));
  }
  return lines.join('');
}
