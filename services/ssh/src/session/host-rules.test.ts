// Rules that a proxy cannot compile (a row written to the database behind
// jmp-api's back, say) refuse the session: the guard fails closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerChannel } from 'ssh2';
import type { ApiClient } from '@jmp/contract';
import type { HostRules } from '@jmp/contract/schemas/sessions';
import type { MyHost } from '@jmp/contract/schemas/access';
import { createLogger } from '@jmp/runtime';
import { loadRules } from './host-rules.js';
import { targetSession, type SessionCtx } from './target-session.js';

// \k<n> is a backreference: RE2 refuses it, so jmp-api never saves it.
const BAD: HostRules = {
  host: 'h1',
  mode: 'deny-list',
  rules: [{ id: 7, name: 'inserted by hand', pattern: 'rm\\k<n>', action: 'block', severity: 'high', list: 'deny' }],
};

function fakeApi(rules: HostRules) {
  const calls: string[] = [];
  const api = new Proxy(
    {},
    {
      get: (_t, name) => async () => {
        calls.push(String(name));
        if (name === 'guardRules') return rules;
        throw new Error(`${String(name)} must not be called`);
      },
    },
  ) as ApiClient;
  return { api, calls };
}

test('rules that do not compile load as null (the caller refuses the session)', async () => {
  const { api } = fakeApi(BAD);
  assert.equal(await loadRules(api, 'h1', createLogger('test', 'silent')), null);
});

test('a session whose rules do not compile is refused with a clear line, before the target is asked', async () => {
  const { api, calls } = fakeApi(BAD);
  const written: string[] = [];
  const sink = {
    write: (s: string) => {
      written.push(s);
      return true;
    },
  };
  const channel = { ...sink, stderr: sink } as unknown as ServerChannel;
  const ctx = {
    api,
    config: { guardFailOpen: false },
    log: createLogger('test', 'silent'),
    user: 'alice',
    source: '192.0.2.1',
    env: {},
    pty: () => undefined,
    setResize: () => {},
    touch: () => {},
  } as unknown as SessionCtx;
  const host = { hostname: 'h1' } as MyHost;
  assert.equal(await targetSession(channel, host, 'id', ctx), 1);
  assert.deepEqual(calls, ['guardRules']);
  assert.match(written.join(''), /jmp: the command rules for h1 could not be loaded, so the session cannot be checked/);
});
