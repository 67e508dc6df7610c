// The Redis guard as a table of cases: redis-cli's argument splitting and the
// verdict by command; blocked lines never forwarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeRedis, splitArgs } from './redis-judge.js';
import { DbGuard } from './db-guard.js';

const SPLITS: Array<[string, string[] | null]> = [
  ['set a b', ['set', 'a', 'b']],
  ['  get   "a b"  ', ['get', 'a b']],
  ['set k "line\\nnext\\x41"', ['set', 'k', 'line\nnextA']],
  ["set k 'it\\'s'", ['set', 'k', "it's"]],
  ['set k "open', null],
  ['set k "a"b', null],
  ['', []],
];
for (const [line, want] of SPLITS)
  test(`split: ${JSON.stringify(line)}`, () => assert.deepEqual(splitArgs(line), want));

const VERDICTS: Array<[string, 'pass' | 'alert' | 'block', string?]> = [
  ['GET k', 'pass'],
  ['set k v', 'pass'],
  ['SCAN 0 MATCH user:*', 'pass'],
  ['FLUSHALL', 'block', 'redis-flush'],
  ['flushdb async', 'block', 'redis-flush'],
  ['3 flushall', 'block', 'redis-flush'],
  ['"FLUSHALL"', 'block', 'redis-flush'],
  ['KEYS *', 'block', 'redis-keys'],
  ['CONFIG SET dir /tmp', 'block', 'redis-admin'],
  ['DEBUG SLEEP 10', 'block', 'redis-admin'],
  ['SHUTDOWN NOSAVE', 'block', 'redis-admin'],
  ['MODULE LOAD /tmp/x.so', 'block', 'redis-admin'],
  ['ACL SETUSER x on >p +@all', 'block', 'redis-admin'],
  ['AUTH default x', 'block', 'redis-identity'],
  ['HELLO 3 AUTH default x', 'block', 'redis-identity'],
  ['connect 127.0.0.1 6380', 'block', 'redis-identity'],
  ['EVAL "return redis.call(\'flushall\')" 0', 'alert', 'redis-script'],
  ['set k "open', 'block', 'redis-malformed'],
];
for (const [line, verdict, id] of VERDICTS) {
  test(`judge: ${line} → ${verdict}`, () => {
    const j = judgeRedis(line);
    assert.equal(j.verdict, verdict);
    if (id) assert.equal(j.rules[0]?.id, id);
    else assert.deepEqual(j.rules, []);
  });
}

test('the Redis guard forwards passed lines and never a blocked one', () => {
  const g = new DbGuard({ dialect: 'redis' });
  const r = g.input(Buffer.from('SET a 1\nFLUSHALL\nGET a\nKEYS'));
  assert.equal(r.forward.toString(), 'SET a 1\nGET a\n');
  assert.equal(r.blocked[0]?.rule.id, 'redis-flush');
  const e = g.end();
  assert.equal(e.forward.length, 0, 'the last line (KEYS) is judged at EOF and blocked');
  assert.equal(e.blocked[0]?.rule.id, 'redis-keys');
});
