// Graceful stop for the services: on SIGTERM stop accepting connections, let
// what is in flight finish within a bound, end the rest, release resources,
// exit. A load balancer sees the closed port as "connection refused" and
// sends new connections elsewhere, so a drained restart fails no request.
import type { EventEmitter } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from './log.js';
import { positiveInt } from './config.js';

/** `JMP_DRAIN_SECONDS`: how long a stopping process waits for in-flight work. */
export const drainConfigSpec = (defaultSeconds: number) =>
  ({
    drainSeconds: {
      env: 'JMP_DRAIN_SECONDS',
      schema: positiveInt(defaultSeconds),
      help: 'on SIGTERM: stop accepting, wait this many seconds for in-flight work, then end it',
    },
  }) as const;

/** What a service does while it stops; see drain(). */
export interface Drainable {
  /** Closes the listener; resolves once nothing is in flight any more. */
  stopAccepting(): Promise<void>;
  /** How much is still in flight (for the log line when the bound is reached). */
  inFlight(): number;
  /** Ends what is still in flight after the bound. */
  forceClose(): void;
  /** Releases pools, stores and files after the listener is drained. */
  cleanup?(): Promise<void>;
}

export interface DrainOptions {
  log: Logger;
  graceMs: number;
  cleanupMs?: number;
}

export type DrainResult = 'drained' | 'forced';

/** Stops accepting, waits up to graceMs for in-flight work, forces the rest, cleans up. */
export async function drain(target: Drainable, { log, graceMs, cleanupMs = 5000 }: DrainOptions): Promise<DrainResult> {
  log.info({ inFlight: target.inFlight(), graceSeconds: graceMs / 1000 }, 'draining: no longer accepting connections');
  const idle = target.stopAccepting().then(() => 'drained' as const);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<'forced'>((r) => {
    timer = setTimeout(() => r('forced'), graceMs);
  });
  let result: DrainResult = await Promise.race([idle, bound]);
  clearTimeout(timer);
  if (result === 'forced') {
    log.warn({ inFlight: target.inFlight() }, 'drain bound reached: ending what is still in flight');
    target.forceClose();
    // Ended connections close within a moment; do not wait on them forever.
    await Promise.race([idle, sleep(1000)]);
  }
  if (target.cleanup) {
    const cleaned = await Promise.race([
      target.cleanup().then(
        () => true,
        (err) => {
          log.warn({ err: (err as Error).message }, 'cleanup after drain failed');
          return true;
        },
      ),
      sleep(cleanupMs).then(() => false),
    ]);
    if (!cleaned) {
      log.warn({ cleanupSeconds: cleanupMs / 1000 }, 'cleanup after drain did not finish in time');
      result = 'forced';
    }
  }
  log.info({ result }, 'drained; exiting');
  return result;
}

/**
 * Drains on the first SIGTERM or SIGINT, then exits 0. A second signal exits
 * 1 at once (an operator pressing Ctrl-C twice means it).
 */
export function drainOnSignals(
  target: Drainable,
  opts: DrainOptions,
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  let draining = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (draining) {
      opts.log.warn({ sig }, 'second signal while draining: exiting now');
      exit(1);
      return;
    }
    draining = true;
    opts.log.info({ sig }, 'shutting down');
    drain(target, opts).then(
      () => exit(0),
      (err) => {
        opts.log.error({ err: (err as Error).message }, 'drain failed');
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * An HTTP server as a Drainable. Idle keep-alive connections are closed while
 * draining (also those that become idle after their last response), so a
 * client's pooled connection cannot hold the process open.
 */
export function httpDrainable(server: HttpServer, cleanup?: () => Promise<void>): Drainable {
  const open = trackConnections(server);
  return {
    stopAccepting: () =>
      new Promise<void>((resolve) => {
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        closeAfterAccepting(server, () => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
    inFlight: () => open.size,
    forceClose: () => server.closeAllConnections(),
    ...(cleanup ? { cleanup } : {}),
  };
}

interface Closable {
  close(done: () => void): unknown;
}

/**
 * Closing a listener resets the connections the kernel has completed but the
 * process has not accepted yet, and the balancer already counts those as
 * connected, so it does not retry them. The signal that starts a drain can
 * be read in the same event-loop turn as a batch of such connections; closing
 * on the next turn (after the poll phase has accepted them) leaves only the
 * connections completed within that one turn at risk.
 */
function closeAfterAccepting(server: Closable, done: () => void): void {
  setImmediate(() => server.close(done));
}
interface Endable extends EventEmitter {
  end(): unknown;
}

/**
 * A server whose close(done) calls done once its last connection is gone (a
 * net.Server, ssh2's Server) as a Drainable; `open` holds its connections
 * (see trackConnections) and forceClose ends each one.
 */
export function listenerDrainable(server: Closable, open: Set<Endable>, cleanup?: () => Promise<void>): Drainable {
  return {
    stopAccepting: () =>
      new Promise<void>((resolve) => {
        closeAfterAccepting(server, resolve);
      }),
    inFlight: () => open.size,
    forceClose: () => {
      for (const c of open) c.end();
    },
    ...(cleanup ? { cleanup } : {}),
  };
}

/** The open connections of a server that emits 'connection' with an object that emits 'close'. */
export function trackConnections<T extends EventEmitter>(server: EventEmitter): Set<T> {
  const open = new Set<T>();
  server.on('connection', (c: T) => {
    open.add(c);
    c.once('close', () => open.delete(c));
  });
  return open;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
