// Default demonstration rules (a service without rules of its own gets none of
// these automatically; jmp-api seeds them and tests use them).
import type { GuardRule } from './rules.js';

// A command word starts the line or follows a separator, a space (sudo, env,
// xargs …), a subshell or a backquote; `\rm` (alias bypass) and `/bin/rm` too.
const CMD = String.raw`(?:^|[\s;&|({` + '`' + String.raw`!]|\$\()\\?(?:[\w.~/-]*/)?`;
const ARGS = String.raw`(?:[^;&|\n]*\s)?`;
const RFLAG = String.raw`(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)`;
const ROOT = String.raw`["']?/\*?["']?`;
const END = String.raw`(?:\s|$|[;&|)])`;

export const DEMO_RULES: readonly GuardRule[] = Object.freeze([
  {
    id: 'demo-rm-root',
    name: 'recursive delete of /',
    action: 'block',
    severity: 'critical',
    list: 'deny',
    pattern: `${CMD}rm\\s+(?:${ARGS}${RFLAG}\\s+${ARGS}${ROOT}${END}|${ARGS}${ROOT}\\s+${ARGS}${RFLAG}${END})`,
  },
  {
    id: 'demo-mkfs',
    name: 'file system creation',
    action: 'block',
    severity: 'critical',
    list: 'deny',
    pattern: `${CMD}mkfs(?:\\.\\w+)?${END}`,
  },
  {
    id: 'demo-dd-disk',
    name: 'raw write to a disk device',
    action: 'block',
    severity: 'critical',
    list: 'deny',
    pattern: String.raw`\bdd\b[^;&|\n]*\bof=/dev/(?:sd|hd|vd|xvd|nvme|mmcblk)`,
  },
  {
    id: 'demo-fork-bomb',
    name: 'fork bomb',
    action: 'block',
    severity: 'high',
    list: 'deny',
    pattern: String.raw`:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:`,
  },
  {
    id: 'demo-rm-recursive',
    name: 'recursive delete',
    action: 'alert',
    severity: 'medium',
    list: 'deny',
    pattern: `${CMD}rm\\s+${ARGS}${RFLAG}${END}`,
  },
  {
    id: 'demo-power',
    name: 'shutdown or reboot',
    action: 'alert',
    severity: 'medium',
    list: 'deny',
    pattern: `${CMD}(?:shutdown|reboot|halt|poweroff|init\\s+[06])${END}`,
  },
  {
    id: 'demo-account-files',
    name: 'overwrite of an account file',
    action: 'alert',
    severity: 'high',
    list: 'deny',
    pattern: String.raw`>\s*/etc/(?:passwd|shadow|group|sudoers)\b`,
  },
]);
