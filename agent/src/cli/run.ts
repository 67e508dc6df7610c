// `jmp-agent run`: the daemon in the foreground until SIGTERM/SIGINT.
import { createLogger } from '@jmp/common';
import { startAgent } from '../agent.js';
import { allowFlags, type ParsedArgs } from './args.js';
import { configFor } from './context.js';

export async function runCommand(args: ParsedArgs): Promise<number> {
  allowFlags(args, []);
  const config = configFor(args);
  const log = createLogger('jmp-agent', config.log.level);
  log.info({ config: config.configPath, pid: process.pid }, 'starting');
  const agent = await startAgent(config, { log });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        log.error('shutdown took longer than 10 s; exiting');
        resolve(1);
      }, 10_000);
      force.unref();
      agent.close().then(() => resolve(0), (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        resolve(1);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('SIGHUP: pulling the policy now');
      void agent.syncNow(true);
    });
  });
}
