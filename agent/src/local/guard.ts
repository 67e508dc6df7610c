// Wraps the request handler: a PAM question about a user whose name (or jmp
// uid) is a local account on this host is denied before any decision, and an
// allowed answer carries the jmp uid, so pam_jmp can check that getpwnam gives
// the same account (docs/agent-protocol.md, `uid`).
import type { Logger } from '@jmp/runtime';
import type { PeerCred } from '@jmp/native';
import type { DecodedRequest, Response } from '../protocol/line.js';
import type { PolicyStore } from '../policy/store.js';
import { localShadow, type LocalAccounts } from './accounts.js';

type Handle = (req: DecodedRequest, peer: PeerCred) => Promise<Response>;

export interface LocalGuardDeps {
  policy: Pick<PolicyStore, 'user'>;
  local: () => LocalAccounts;
  log: Pick<Logger, 'warn'>;
}

const CHECKED_OPS: ReadonlySet<string> = new Set(['auth', 'account', 'sudo', 'su']);

export function guardLocalAccounts(handle: Handle, d: LocalGuardDeps): Handle {
  return async (req, peer) => {
    if (!CHECKED_OPS.has(req.op) || !('user' in req) || req.user === undefined) return handle(req, peer);
    const name = req.user;
    const jmpUid = d.policy.user(name)?.uid;
    const why = localShadow(d.local(), name, jmpUid);
    if (why) {
      d.log.warn({ op: req.op, user: name }, `denied: ${why}`);
      return { status: 'deny', reason: why };
    }
    const res = await handle(req, peer);
    if (res.status === 'allow' && jmpUid !== undefined) return { ...res, uid: String(jmpUid) };
    return res;
  };
}
