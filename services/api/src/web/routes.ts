// Endpoints for the web terminal's backend (jmp-socket).
import { contract } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { issueWebCredential } from './credentials.js';

export const webRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'post',
    '/v1/web/ssh-credentials',
    {
      summary:
        'Trade a web session (the jmp_session cookie value) for a one-time credential that logs in to jmp-ssh once within 30 s; used by jmp-socket',
      tags: ['auth'],
      auth: auth.service('socket'),
      security: 'service',
      body: contract.WebSshCredentialRequest,
      response: contract.WebSshCredentialResponse,
    },
    async ({ body }) => issueWebCredential(ctx, body.session),
  );
};
