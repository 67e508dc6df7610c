// `jmp-agent run`: the daemon in the foreground until SIGTERM/SIGINT.
import { createLogger } from '@jmp/runtime';
import { startAgent } from '../agent.js';
import { allowFlags, type ParsedArgs } from './args.js';
import { configFor } from './context.js';

export async function runCommand(args: ParsedArgs): Promise<number> {
  allowFlags(args, []);
  const config = configFor(args);
  const log = createLogger('jmp-agent', config.log.level);
  log.info({ config: config.configPath, pid: process.pid }, 'starting');
  // Signal handlers go in before the socket exists: a supervisor may signal as
  // soon as it sees the socket, and Node's default for SIGHUP is to exit.
  let agent: Awaited<ReturnType<typeof startAgent>> | null = null;
  let syncWanted = false;
  let stopWanted: string | null = null;
  let stop: (signal: string) => void = (signal) => {
    stopWanted = signal;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    log.info('SIGHUP: pulling the policy now');
    if (agent) void agent.syncNow(true);
    else syncWanted = true;
  });
  const started = await startAgent(config, { log });
  agent = started;
  return new Promise<number>((resolve) => {
    let stopping = false;
    stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const force = setTimeout(() => {
        log.error('shutdown took longer than 10 s; exiting');
        resolve(1);
      }, 10_000);
      force.unref();
      started.close().then(
        () => resolve(0),
        (err: Error) => {
          log.error({ err: err.message }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    if (stopWanted) stop(stopWanted);
    else if (syncWanted) void started.syncNow(true);
  });
}
