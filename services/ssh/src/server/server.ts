// jmp-ssh's SSH server: a short dispatcher. Each connection is refused above
// ssh2's own maxConnections (counted for the sockets the listener injects),
// logs in (authenticate.ts), has forwarding refused (channel-policy.ts), and
// hands each session channel to a ChannelSession; target sessions go through
// the one session controller, which owns the per-person limit.
import ssh2, { type Connection } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { AuthUser } from '@jmp/contract/schemas/auth';
import type { Logger } from '@jmp/runtime';
import type { Recordings } from '@jmp/recording';
import type { FileAudit, SftpLimits, Staging } from '@jmp/sftp-proxy';
import type { SshConfig } from '../config.js';
import { SessionController } from '../session/controller.js';
import { ChannelSession } from '../session/channel-session.js';
import { authenticator } from '@jmp/ssh-server/authenticate';
import { serverAlgorithmOptions } from '@jmp/ssh-server/algorithms';
import { refuseForwarding } from './channel-policy.js';

export interface SshServerDeps {
  config: SshConfig;
  api: ApiClient;
  log: Logger;
  hostKey: Buffer;
  recordings: Recordings;
  /** The sftp subsystem (the same proxy as jmp-sftp); without it the subsystem is refused. */
  sftp?: { audit: FileAudit; limits: SftpLimits; staging?: Staging | undefined };
}

export function createSshServer({ config, api, log, hostKey, recordings, sftp }: SshServerDeps): ssh2.Server {
  const sessions = new SessionController({ api, log, maxSessionsPerUser: config.maxSessionsPerUser });
  const options = { hostKeys: [hostKey], ident: 'jmp', ...serverAlgorithmOptions() };
  const server = new ssh2.Server(options, (client: Connection, info) => {
    let user: AuthUser | null = null;
    refuseForwarding(client, log, () => user?.username ?? '(not logged in)');
    client.on(
      'authentication',
      authenticator(
        api,
        log,
        () => info.ip,
        (u) => {
          user = u;
        },
      ),
    );
    client.on('error', (err) => log.debug({ err: err.message, source: info.ip }, 'client connection error'));
    client.on('ready', () => {
      const username = user!.username;
      log.info({ user: username, source: info.ip }, 'logged in to jmp');
      const endConnection = () => {
        client.end();
      };
      const deps = {
        api,
        config,
        log,
        recordings,
        sessions,
        user: username,
        source: info.ip,
        endConnection,
        ...(sftp ? { sftp: { ...sftp, instance: sessions.instance, live: sessions.live } } : {}),
      };
      client.on('session', (accept) => {
        new ChannelSession(accept(), deps);
      });
    });
  });
  // ssh2 destroys a socket over the limit as it is handed in (listen or
  // injectSocket); createSshListener logs each one it hands in.
  server.maxConnections = config.maxConnections;
  return server;
}
