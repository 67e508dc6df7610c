// Every file the install scripts touch, and how jmp's version of it is made
// from what is there.
import { unwireNsswitch, wireNsswitch } from './nsswitch.js';
import { wirePam, type PamService } from './pam-stack.js';
import { stripBlocks } from './markers.js';
import { SSHD_DROPIN, SUDOERS } from './dropins.js';

export interface Target {
  path: string;
  /** false: skipped when absent (e.g. /etc/pam.d/sudo-i on Red Hat). */
  required: boolean;
  /** jmp's version of the file from its current text (undefined: absent). */
  wire(current: string | undefined): string;
  /** The current text without jmp's lines; undefined: delete the file. */
  unwire(current: string): string | undefined;
  /** Mode of a file jmp creates. */
  createMode: number;
  /** Checked with visudo before it goes live. */
  sudoers?: boolean;
}

function pam(service: PamService, file: string, required: boolean): Target {
  const path = `/etc/pam.d/${file}`;
  return {
    path, required, createMode: 0o644,
    wire: (cur) => {
      if (cur === undefined) throw new Error(`${path} is missing`);
      return wirePam(cur, service, path);
    },
    unwire: (cur) => stripBlocks(cur),
  };
}

function whole(path: string, content: string, createMode: number, extra: Partial<Target> = {}): Target {
  return { path, required: true, createMode, wire: () => content, unwire: () => undefined, ...extra };
}

export const TARGETS: Target[] = [
  pam('sshd', 'sshd', true),
  pam('xrdp-sesman', 'xrdp-sesman', false),
  pam('sudo', 'sudo', true),
  pam('sudo-i', 'sudo-i', false),
  pam('su', 'su', true),
  {
    path: '/etc/nsswitch.conf', required: true, createMode: 0o644,
    wire: (cur) => {
      if (cur === undefined) throw new Error('/etc/nsswitch.conf is missing');
      return wireNsswitch(cur, '/etc/nsswitch.conf');
    },
    unwire: (cur) => unwireNsswitch(cur),
  },
  whole('/etc/sudoers.d/jmp', SUDOERS, 0o440, { sudoers: true }),
  whole('/etc/ssh/sshd_config.d/10-jmp.conf', SSHD_DROPIN, 0o644),
];
