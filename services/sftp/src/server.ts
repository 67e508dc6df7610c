// jmp-sftp's SSH server: people log in exactly as to jmp-ssh (@jmp/ssh-server),
// and each session channel may ask for one thing, the `sftp` subsystem, which
// @jmp/sftp-proxy serves. Everything else gets one clear line: legacy scp
// (`scp -O`, exec `scp -t/-f`), shells and commands, forwarding of any kind.
import { hostname } from 'node:os';
import ssh2, { type Connection, type ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import { LiveSessions } from '@jmp/contract/live-sessions';
import type { Logger } from '@jmp/runtime';
import { authenticator } from '@jmp/ssh-server/authenticate';
import { serverAlgorithmOptions } from '@jmp/ssh-server/algorithms';
import { serveSftp, type FileAudit, type SftpLimits, type Staging } from '@jmp/sftp-proxy';

export interface SftpServerDeps {
  api: ApiClient;
  log: Logger;
  hostKey: Buffer;
  audit: FileAudit;
  limits: SftpLimits;
  targetPort: number;
  maxConnections: number;
  /** The staging area `/~staging/`, when configured. */
  staging?: Staging | undefined;
}

export const LEGACY_SCP_LINE =
  'jmp: legacy scp (scp -O) is not supported: run scp without -O (OpenSSH 9 and later use SFTP), or use sftp\r\n';
export const NO_SHELL_LINE =
  'jmp: this port serves file transfer only (sftp, scp); for a shell, use ssh on the jump port\r\n';

function refuse(channel: ServerChannel, line: string): void {
  channel.stderr.write(line);
  channel.exit(1);
  channel.end();
}

/**
 * jmp-ssh's algorithms, plus the SHA-2 MACs in their classic (encrypt-and-MAC)
 * mode, offered last: libssh2 before 1.11 (curl's sftp://, many file tools and
 * libraries) knows no encrypt-then-MAC and no AEAD cipher, and would find no
 * common MAC. Clients that know better pick the -etm ones first.
 */
export function sftpAlgorithms(): ssh2.Algorithms {
  const { algorithms } = serverAlgorithmOptions();
  return {
    ...algorithms,
    hmac: [...(algorithms.hmac as string[]), 'hmac-sha2-512', 'hmac-sha2-256'] as ssh2.MacAlgorithm[],
  };
}

export function createSftpServer(d: SftpServerDeps): ssh2.Server {
  const instance = `${hostname()}:${process.pid}`;
  const live = new LiveSessions(d.api, instance, d.log);
  const server = new ssh2.Server(
    { hostKeys: [d.hostKey], ident: 'jmp', algorithms: sftpAlgorithms() },
    (client: Connection, info) => {
      let user: AuthUser | null = null;
      client.on('tcpip', (_a, reject) => reject());
      client.on('openssh.streamlocal', (_a, reject) => reject());
      client.on('request', (_a, reject) => reject?.());
      client.on(
        'authentication',
        authenticator(
          d.api,
          d.log,
          () => info.ip,
          (u) => {
            user = u;
          },
        ),
      );
      client.on('error', (err) => d.log.debug({ err: err.message, source: info.ip }, 'client connection error'));
      client.on('ready', () => {
        const username = user!.username;
        d.log.info({ user: username, source: info.ip }, 'logged in to jmp-sftp');
        client.on('session', (accept) => {
          const session = accept();
          let started = false;
          session.on('sftp', (ok) => {
            if (started) return;
            started = true;
            serveSftp(ok(), {
              api: d.api,
              log: d.log,
              audit: d.audit,
              user: username,
              source: info.ip,
              instance,
              live,
              targetPort: d.targetPort,
              limits: d.limits,
              staging: d.staging,
            });
          });
          session.on('exec', (ok, _no, e) => {
            started = true;
            const legacy = /^\s*scp(\s|$)/.test(e.command);
            d.log.info(
              { user: username, command: e.command.slice(0, 200) },
              legacy ? 'refused: legacy scp' : 'refused: exec',
            );
            refuse(ok(), legacy ? LEGACY_SCP_LINE : NO_SHELL_LINE);
          });
          session.on('shell', (ok) => {
            started = true;
            refuse(ok(), NO_SHELL_LINE);
          });
          session.on('subsystem', (_ok, no) => no?.());
          session.on('pty', (_ok, no) => no?.());
          session.on('env', (_ok, no) => no?.());
          session.on('auth-agent', (_ok, no) => no?.());
          session.on('x11', (_ok, no) => no?.());
        });
      });
    },
  );
  server.maxConnections = d.maxConnections;
  return server;
}
