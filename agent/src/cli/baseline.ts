// `jmp-agent baseline`: record the guarded files as installed.
import { recordBaseline } from '../guard/baseline.js';
import { allowFlags, type ParsedArgs } from './args.js';
import { configFor, stdio, type Io } from './context.js';

export async function baselineCommand(args: ParsedArgs, io: Io = stdio): Promise<number> {
  allowFlags(args, []);
  const config = configFor(args);
  const images = recordBaseline(config.files.guardBaseline, config.guard.files);
  for (const [path, img] of images) io.out(`${img.content ? 'recorded' : 'absent  '} ${path}`);
  io.out(`baseline written to ${config.files.guardBaseline}; restart the daemon to use it`);
  return 0;
}
