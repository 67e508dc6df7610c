// What jmp-ssh opens for a person, and what it refuses. Only session channels
// with a shell or a command reach a target, and those are always guarded
// (target-session.ts); everything else that could carry bytes to or from a
// target without the guard (subsystems other than sftp, which has its own
// audited proxy, port and socket
// forwarding, agent and X11 forwarding, unknown channel types, a terminal
// asked for after the session started) is refused, explicitly rather than by
// relying on ssh2's defaults for events without listeners.
import type { Connection, ServerChannel, Session } from 'ssh2';
import type { Logger } from '@jmp/runtime';

/** Variables passed on to the target: names and values that cannot change what its shell runs. */
const PASSED_ENV = /^(TERM|LANG|LC_[A-Z]+|COLORTERM)$/;
const SAFE_ENV_VALUE = /^[\w.@:+-]{0,64}$/;

export function acceptEnv(key: string, value: string): boolean {
  return PASSED_ENV.test(key) && SAFE_ENV_VALUE.test(value);
}

export function subsystemRefusal(name: string): string {
  return (
    `jmp: the ${JSON.stringify(name.slice(0, 64))} subsystem is not available on jmp-ssh: only shells and commands, ` +
    'which the command guard checks, and the sftp subsystem are allowed\r\n'
  );
}

/**
 * Refuses a subsystem request (anything but sftp) with a clear line: the channel is
 * accepted only to say why, nothing is read from it, and it is closed with
 * exit status 1.
 */
export function refuseSubsystem(channel: ServerChannel | undefined, name: string): void {
  if (!channel) return;
  channel.stderr.write(subsystemRefusal(name));
  channel.exit(1);
  channel.end();
}

/** Connection-level refusals: forwarding of TCP ports and Unix sockets, both directions. */
export function refuseForwarding(client: Connection, log: Logger, who: () => string): void {
  client.on('tcpip', (_accept, reject, info) => {
    log.info({ user: who(), dest: `${info.destIP}:${info.destPort}` }, 'refused: port forwarding');
    reject();
  });
  client.on('openssh.streamlocal', (_accept, reject) => {
    log.info({ user: who() }, 'refused: socket forwarding');
    reject();
  });
  client.on('request', (_accept, reject, name) => {
    log.info({ user: who(), request: name }, 'refused: forwarding request');
    reject?.();
  });
}

/** Session-level refusals: agent and X11 forwarding (they would open channels back to the person). */
export function refuseSessionForwarding(session: Session, log: Logger, who: string): void {
  session.on('auth-agent', (_accept, reject) => {
    log.info({ user: who }, 'refused: agent forwarding');
    reject?.();
  });
  session.on('x11', (_accept, reject) => {
    log.info({ user: who }, 'refused: X11 forwarding');
    reject?.();
  });
}
