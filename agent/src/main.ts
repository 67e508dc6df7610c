// jmp-agent entry point: parse the command line and hand over to a command.
import { AgentConfigError } from './config.js';
import { parseArgs, UsageError } from './cli/args.js';
import { HELP } from './cli/help.js';
import { AGENT_VERSION } from './server/handler.js';
import { runCommand } from './cli/run.js';
import { enrollCommand } from './cli/enroll.js';
import { statusCommand } from './cli/status.js';
import { syncCommand } from './cli/sync.js';
import { doctorCommand } from './cli/doctor.js';
import { ticketCommand } from './cli/ticket.js';
import { baselineCommand } from './cli/baseline.js';
import { dbCommand } from './cli/db.js';

const COMMANDS = {
  run: runCommand,
  enroll: enrollCommand,
  status: statusCommand,
  sync: syncCommand,
  doctor: doctorCommand,
  ticket: ticketCommand,
  baseline: baselineCommand,
  db: dbCommand,
} as const;

async function main(argv: string[]): Promise<number> {
  // After `--`, the arguments belong to the client `jmp-agent db` runs.
  const cut = argv.indexOf('--');
  const args = parseArgs(cut < 0 ? argv : argv.slice(0, cut));
  if (args.bools.has('version')) {
    process.stdout.write(`jmp-agent ${AGENT_VERSION}\n`);
    return 0;
  }
  if (args.bools.has('help') || args.command === 'help' || args.command === undefined) {
    process.stdout.write(HELP);
    return args.command === undefined && !args.bools.has('help') ? 2 : 0;
  }
  const cmd = COMMANDS[args.command as keyof typeof COMMANDS];
  if (!cmd) throw new UsageError(`unknown command "${args.command}"`);
  return cmd(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    if (err instanceof UsageError) {
      process.stderr.write(`jmp-agent: ${err.message}\n(see jmp-agent --help)\n`);
      process.exitCode = 2;
    } else if (err instanceof AgentConfigError) {
      process.stderr.write(`jmp-agent: configuration error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`jmp-agent: ${err.message}\n`);
      process.exitCode = 1;
    }
  },
);
