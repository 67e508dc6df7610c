// The `ticket` op: a hop ticket is only ever asked for as the calling user
// (SO_PEERCRED uid → jmp user), never as a user named in the request.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { contract } from '@jmp/contract';
import { decodeRequest } from '../protocol/line.js';
import type { AgentApi } from '../api/client.js';
import type { Decider } from '../decide/decider.js';
import { createHandler } from './handler.js';

const users = [
  { username: 'alice', uid: 70001 },
  { username: 'bob', uid: 70002 },
  { username: 'oddroot', uid: 0 },
];

function setup() {
  const asked: string[] = [];
  const api = {
    async ticket(req: { user: string; host: string }): Promise<contract.TicketResponse> {
      asked.push(req.user);
      return {
        ticket: `t-${req.user}`,
        jti: 'j',
        expiresAt: new Date().toISOString(),
        host: { id: 2, hostname: req.host, addresses: [], sshHostKeys: [] },
      };
    },
  } as unknown as AgentApi;
  const handle = createHandler({
    decider: {} as Decider,
    // uid 0 is mapped on purpose: even a policy that names root must not make root a ticket holder.
    policy: { userByUid: (uid: number) => users.find((u) => u.uid === uid) as never },
    target: () => ({ api }),
    mode: () => 'online',
  });
  const ask = (line: string, uid: number) => handle(decodeRequest(`${line}\n`), { pid: 1, uid, gid: uid });
  return { asked, ask };
}

describe('agent ticket op', () => {
  test('the calling user gets a ticket for themselves', async () => {
    const { asked, ask } = setup();
    const r = await ask('v1 ticket host=h2', 70001);
    assert.equal(r.status, 'ticket');
    assert.deepEqual(asked, ['alice']);
  });

  test('root asking for a ticket as another user is refused, and jmp-api is never asked', async () => {
    const { asked, ask } = setup();
    const r = await ask('v1 ticket host=h2 user=alice', 0);
    assert.equal(r.status, 'deny');
    assert.match((r as { reason: string }).reason, /root may not ask for hop tickets as alice/);
    const plain = await ask('v1 ticket host=h2', 0);
    assert.equal(plain.status, 'deny', 'root gets no ticket as itself either');
    assert.deepEqual(asked, []);
  });

  test('a user naming someone else is refused, not answered for the caller', async () => {
    const { asked, ask } = setup();
    const r = await ask('v1 ticket host=h2 user=alice', 70002);
    assert.equal(r.status, 'deny');
    assert.match(
      (r as { reason: string }).reason,
      /uid 70002 is bob; a ticket is only for the calling user, never as alice/,
    );
    assert.equal((await ask('v1 ticket host=h2 user=bob', 70002)).status, 'ticket', 'naming oneself is harmless');
    assert.deepEqual(asked, ['bob']);
  });

  test('an unknown uid gets none', async () => {
    const { asked, ask } = setup();
    assert.equal((await ask('v1 ticket host=h2', 65534)).status, 'deny');
    assert.deepEqual(asked, []);
  });
});
