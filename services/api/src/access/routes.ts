import { z } from 'zod';
import { JmpError } from '@jmp/contract';
import { Username } from '@jmp/contract/schemas/primitives';
import { MyHosts } from '@jmp/contract/schemas/access';
import type { RouteModule } from '../http/app.js';
import { myHosts } from './my-hosts.js';
import { meRoutes } from '../me/routes.js';

export const accessRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'get',
    '/v1/access/hosts',
    {
      summary: "The hosts a user may log in to, with root right and why (jmp-ssh's menu)",
      tags: ['access'],
      auth: auth.service('ssh', 'sftp', 'rdp'),
      security: 'service',
      query: z.object({ user: Username }),
      response: MyHosts,
    },
    async ({ query }) => {
      const hosts = await myHosts(ctx.db, query.user, ctx.now(), ctx.config.noSnapshotPolicy);
      if (!hosts) throw new JmpError('not_found', `no user named ${query.user}`);
      return { hosts };
    },
  );
  api.route(
    'get',
    '/v1/me/hosts',
    {
      summary: 'The hosts the logged-in person may log in to',
      tags: ['access'],
      auth: auth.user(),
      security: 'user',
      response: MyHosts,
    },
    async ({ principal }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      return { hosts: (await myHosts(ctx.db, principal.user.username, ctx.now(), ctx.config.noSnapshotPolicy)) ?? [] };
    },
  );
  // The rest of the person's own view: TOTP, SSH keys, rights.
  meRoutes(api, ctx, auth);
};
