// The daemon's side of `jmp-agent db KIND`: the caller is the peer's uid
// (SO_PEERCRED), her right comes from the policy snapshot. MariaDB needs
// nothing per session (her account follows her right, mariadb-sync.ts): the
// answer is her level, or a refusal that says why. Redis has no OS users:
// each session gets its own ACL user with her level's commands and a random
// secret, handed over this socket only, deleted when the client says the
// session ended or, if it died, when the sweep finds its process gone.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '@jmp/runtime';
import type { PeerCred } from '@jmp/native';
import type { DbRequest, Response } from '../protocol/line.js';
import type { PolicyStore } from '../policy/store.js';
import { runClient } from './client-exec.js';
import type { DbLevel } from './mariadb-plan.js';

export interface DbSessionsConfig {
  mariadb: { socket: string };
  redis: { socket: string; client: string; adminAuthFile?: string | undefined };
}

/** The commands each level may run (the guard in jmp-ssh refuses the dangerous ones early; this enforces). */
export const REDIS_ACL: Readonly<Record<DbLevel, string>> = {
  read: '+@read +@connection -@dangerous',
  write: '+@read +@write +@connection -@dangerous',
  admin: '+@all',
};

const SESSION_USER = /^jmp-([a-z_][a-z0-9_.-]*)-(\d+)-[0-9a-f]{8}$/u;

export class DbSessions {
  constructor(
    private readonly c: DbSessionsConfig,
    private readonly policy: Pick<PolicyStore, 'userByUid'>,
    private readonly log: Logger,
  ) {}

  async handle(req: DbRequest, peer: PeerCred): Promise<Response> {
    if (req.kind !== 'mariadb' && req.kind !== 'redis')
      return { status: 'error', code: 'bad_request', reason: `"${req.kind.slice(0, 32)}" is not a database kind` };
    const user = this.policy.userByUid(peer.uid);
    if (!user) return { status: 'deny', reason: `uid ${peer.uid} is not a jmp user on this host` };
    const socket = this.c[req.kind].socket;
    const name = req.kind === 'mariadb' ? 'MariaDB' : 'Redis';
    if (req.action === 'close') return this.close(user.username, req.user ?? '');
    if (!existsSync(socket))
      return { status: 'deny', reason: `no ${name} server on this host (no socket at ${socket})` };
    const level = user.db?.[req.kind];
    if (!level)
      return { status: 'deny', reason: `${user.username} has no ${name} right on this host; request one in jmp` };
    if (req.kind === 'mariadb') return { status: 'db', user: user.username, level };
    const aclUser = `jmp-${user.username}-${peer.pid}-${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(32).toString('hex');
    try {
      await this.redis(`ACL SETUSER ${aclUser} reset on >${secret} ~* &* ${REDIS_ACL[level]}\n`);
    } catch (err) {
      this.log.warn({ err, user: user.username }, 'could not create the Redis session user');
      return { status: 'deny', reason: `the Redis server did not accept the session user: ${(err as Error).message}` };
    }
    this.log.info({ user: user.username, redisUser: aclUser, level }, 'Redis session user created');
    return { status: 'db', user: aclUser, secret, level };
  }

  private async close(username: string, aclUser: string): Promise<Response> {
    const m = SESSION_USER.exec(aclUser);
    if (!m || m[1] !== username)
      return { status: 'deny', reason: `${aclUser.slice(0, 64)} is not a session of ${username}` };
    await this.redis(`ACL DELUSER ${aclUser}\n`);
    this.log.info({ user: username, redisUser: aclUser }, 'Redis session user removed');
    return { status: 'allow' };
  }

  /** Removes session users whose client process is gone (killed, host rebooted…). */
  async sweep(): Promise<void> {
    if (!existsSync(this.c.redis.socket)) return;
    const users = (await this.redis('ACL USERS\n')).split('\n').map((s) => s.trim());
    const dead = users.filter((u) => {
      const m = SESSION_USER.exec(u);
      return m && !existsSync(`/proc/${m[2]}`);
    });
    for (const u of dead) await this.redis(`ACL DELUSER ${u}\n`);
    if (dead.length) this.log.info({ users: dead }, 'removed Redis session users of ended sessions');
  }

  private async redis(commands: string): Promise<string> {
    const env = { ...process.env };
    delete env['REDISCLI_AUTH'];
    if (this.c.redis.adminAuthFile) env['REDISCLI_AUTH'] = readFileSync(this.c.redis.adminAuthFile, 'utf8').trim();
    const r = await runClient(this.c.redis.client, ['-s', this.c.redis.socket, '--no-auth-warning'], commands, { env });
    const out = r.stdout.trim();
    if (r.code !== 0 || /^(ERR|NOAUTH|NOPERM|WRONGPASS)/mu.test(out))
      throw new Error((out || r.stderr.trim()).split('\n')[0]!.slice(0, 200));
    return out;
  }
}
