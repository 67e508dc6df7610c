// jmp-agent-wiring: the install scripts' part that edits PAM, NSS, sudoers
// and sshd files (shipped as /usr/lib/jmp-agent/jmp-agent-wiring.mjs).
//   install | remove  [--root DIR] [--state-dir DIR] [--no-visudo]
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { install, remove } from './wire.js';

const USAGE = `Usage: jmp-agent-wiring install|remove [--root DIR] [--state-dir DIR] [--no-visudo]
  install    add pam_jmp to /etc/pam.d/{sshd,sudo,sudo-i,su}, jmp to nsswitch.conf
             (passwd, group), /etc/sudoers.d/jmp (checked with visudo -c) and
             /etc/ssh/sshd_config.d/10-jmp.conf; keeps pristine copies first
  remove     put every file back byte for byte (only jmp's lines where an
             administrator changed a file since)
  --root DIR       act on the tree below DIR instead of / (default /)
  --state-dir DIR  manifest and pristine copies (default /var/lib/jmp-agent/wiring)
  --no-visudo      skip the visudo check (trees without sudo)
`;

const Args = z.object({
  command: z.enum(['install', 'remove'], { error: 'the command must be install or remove' }),
  root: z.string().refine(isAbsolute, '--root must be an absolute path').default('/'),
  stateDir: z.string().refine(isAbsolute, '--state-dir must be an absolute path').default('/var/lib/jmp-agent/wiring'),
  visudo: z.boolean().default(true),
});

function parse(argv: string[]): z.infer<typeof Args> {
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root' || a === '--state-dir') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      raw[a === '--root' ? 'root' : 'stateDir'] = v;
    } else if (a === '--no-visudo') raw.visudo = false;
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else if (raw.command === undefined) raw.command = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  const r = Args.safeParse(raw);
  if (!r.success) throw new Error(r.error.issues.map((i) => i.message).join('; '));
  return r.data;
}

function visudoPath(): string | null {
  for (const p of ['/usr/sbin/visudo', '/usr/bin/visudo']) if (existsSync(p)) return p;
  return null;
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = parse(argv);
  const visudo = args.visudo ? visudoPath() : null;
  if (args.visudo && !visudo) throw new Error('visudo not found: install sudo (or pass --no-visudo for a tree without sudo)');
  const opts = { root: args.root, stateDir: args.stateDir, visudo, log: (l: string) => process.stdout.write(`jmp-agent: ${l}\n`) };
  if (args.command === 'install') install(opts);
  else remove(opts);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`jmp-agent-wiring: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
