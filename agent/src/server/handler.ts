// What each request op does: ping answers the mode, PAM ops go to the
// decider, ticket asks jmp-api for a hop ticket on behalf of the local user
// the kernel says is calling (never a user named in the request).
import { contract } from '@jmp/contract';
import type { PeerCred } from '@jmp/native';
import type { AgentMode, DbRequest, DecodedRequest, Response } from '../protocol/line.js';
import { ApiError } from '@jmp/contract';
import { isApiDown, type AgentApi } from '../api/client.js';
import type { Decider } from '../decide/decider.js';
import type { PolicyStore } from '../policy/store.js';

import { AGENT_VERSION } from '../version.js';

export { AGENT_VERSION };

export interface HandlerDeps {
  decider: Decider;
  policy: Pick<PolicyStore, 'userByUid'>;
  target: () => { api: AgentApi } | null;
  mode: () => AgentMode;
  /** Database sessions (`jmp-agent db redis`): absent, the op is refused. */
  db?: (req: DbRequest, peer: PeerCred) => Promise<Response>;
}

export function createHandler(d: HandlerDeps) {
  return async (req: DecodedRequest, peer: PeerCred): Promise<Response> => {
    switch (req.op) {
      case 'ping':
        return { status: 'pong', version: AGENT_VERSION, mode: d.mode() };
      case 'ticket':
        return ticket(d, req.host, peer, req.fields['user']);
      case 'db':
        return d.db ? d.db(req, peer) : { status: 'deny', reason: 'database sessions are not configured on this host' };
      default: {
        const r = await d.decider.decide(req);
        return { status: r.allow ? 'allow' : 'deny', reason: r.reason, mode: r.mode };
      }
    }
  };
}

/**
 * A hop ticket is only ever for the person the kernel says is calling. Root is
 * no person (and could name anyone), so it gets none; a request that names
 * another user is refused rather than quietly answered for the caller.
 */
async function ticket(d: HandlerDeps, host: string, peer: PeerCred, named: string | undefined): Promise<Response> {
  if (!contract.Hostname.safeParse(host).success)
    return { status: 'error', code: 'bad_request', reason: `"${host.slice(0, 64)}" is not a host name` };
  const asWhom = named === undefined ? '' : ` as ${named.slice(0, 64)}`;
  if (peer.uid === 0)
    return {
      status: 'deny',
      reason: `root may not ask for hop tickets${asWhom}; a ticket is only for the calling person, so run jmp-agent ticket as yourself`,
    };
  const user = d.policy.userByUid(peer.uid);
  if (!user) return { status: 'deny', reason: `uid ${peer.uid} is not a jmp user on this host` };
  if (named !== undefined && named !== user.username) {
    return {
      status: 'deny',
      reason: `uid ${peer.uid} is ${user.username}; a ticket is only for the calling user, never${asWhom}`,
    };
  }
  const t = d.target();
  if (!t) return { status: 'deny', reason: 'this host is not enrolled with jmp-api' };
  try {
    const r = await t.api.ticket({ user: user.username, host });
    return {
      status: 'ticket',
      ticket: r.ticket,
      expires_at: r.expiresAt,
      host_id: String(r.host.id),
      hostname: r.host.hostname,
      addresses: r.host.addresses.join(','),
      ssh_host_keys: r.host.sshHostKeys.join('\n'),
    };
  } catch (err) {
    if (isApiDown(err))
      return { status: 'deny', reason: `jmp-api is unreachable; tickets need it (${(err as Error).message})` };
    return { status: 'deny', reason: err instanceof ApiError ? err.message : 'jmp-api refused the ticket' };
  }
}
