// `jmp-agent sync`: pull the policy now and write the files.
import { allowFlags, type ParsedArgs } from './args.js';
import { cliLogger, configFor, stdio, type Io } from './context.js';
import { pullOnce } from './enroll.js';

export async function syncCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, []);
  const config = configFor(args);
  const r = await pullOnce(config, cliLogger(io));
  io.out(`policy ${r}`);
  return r.startsWith('updated') ? 0 : 1;
}
