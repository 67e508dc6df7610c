// Files jmp adds whole: the sudoers rule and the sshd drop-in.

/** /etc/sudoers.d/jmp: jmp users reach PAM (pam_jmp decides); nothing is cached. */
export const SUDOERS = `# jmp: users in jmp-users reach PAM, where pam_jmp asks the agent; no cached
# sudo (revocation is immediate) and \`sudo -n\` works for scripts.
# Added by the jmp-agent package and removed with it.
Defaults:%jmp-users timestamp_timeout=0, noninteractive_auth, passwd_tries=1
%jmp-users ALL=(ALL:ALL) ALL
`;

/**
 * sshd drop-in: the ticket prompt of pam_jmp needs PAM and
 * keyboard-interactive. sshd keeps the first value it reads and the Include
 * of sshd_config.d comes first, so a low number wins over the main file.
 */
export const SSHD_DROPIN = `# jmp: logins with a one-time ticket answer pam_jmp's keyboard-interactive
# prompt. Added by the jmp-agent package and removed with it.
UsePAM yes
KbdInteractiveAuthentication yes
`;
