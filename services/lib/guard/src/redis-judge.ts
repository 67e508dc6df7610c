// The verdict on one line typed into redis-cli: split into arguments the way
// redis-cli splits them (quotes, escapes; a leading count repeats the
// command), then judged by command name. The per-session ACL user is the
// enforcement; this is the early refusal that says why. Pure: no I/O.
import type { MatchedRule, Verdict } from './rules.js';
import { builtInRule as rule } from './builtin-rule.js';

export const REDIS_RULES = Object.freeze({
  flush: rule('redis-flush', 'FLUSHALL / FLUSHDB', 'block', 'critical'),
  keys: rule('redis-keys', 'KEYS (blocks the server; use SCAN)', 'block', 'medium'),
  admin: rule('redis-admin', 'CONFIG, DEBUG, SHUTDOWN, MODULE, ACL', 'block', 'high'),
  identity: rule('redis-identity', 'changing user or server (AUTH, HELLO … AUTH, connect)', 'block', 'high'),
  script: rule('redis-script', 'server-side scripts (EVAL, FUNCTION, FCALL)', 'alert', 'medium'),
  malformed: rule('redis-malformed', 'unbalanced quotes (redis-cli would not send it)', 'block', 'low'),
  tooLong: rule('redis-too-long', 'command too long to check', 'block', 'high'),
});

const BY_COMMAND: Record<string, MatchedRule> = {
  flushall: REDIS_RULES.flush,
  flushdb: REDIS_RULES.flush,
  keys: REDIS_RULES.keys,
  config: REDIS_RULES.admin,
  debug: REDIS_RULES.admin,
  shutdown: REDIS_RULES.admin,
  module: REDIS_RULES.admin,
  acl: REDIS_RULES.admin,
  auth: REDIS_RULES.identity,
  connect: REDIS_RULES.identity,
  eval: REDIS_RULES.script,
  eval_ro: REDIS_RULES.script,
  evalsha: REDIS_RULES.script,
  evalsha_ro: REDIS_RULES.script,
  fcall: REDIS_RULES.script,
  fcall_ro: REDIS_RULES.script,
  function: REDIS_RULES.script,
  script: REDIS_RULES.script,
};

export interface RedisJudgement {
  verdict: Verdict;
  rules: MatchedRule[];
  /** The command name, lower case ('' for an empty line). */
  command: string;
  args: string[];
}

export function judgeRedis(line: string): RedisJudgement {
  const args = splitArgs(line);
  if (args === null) return { verdict: 'block', rules: [REDIS_RULES.malformed], command: '', args: [] };
  // redis-cli runs `3 incr x` three times.
  const words = args.length > 1 && /^\d+$/u.test(args[0]!) ? args.slice(1) : args;
  const command = (words[0] ?? '').toLowerCase();
  const found = BY_COMMAND[command];
  const rules: MatchedRule[] = found ? [found] : [];
  if (command === 'hello' && words.some((w) => w.toLowerCase() === 'auth')) rules.push(REDIS_RULES.identity);
  const verdict: Verdict = rules.some((r) => r.action === 'block') ? 'block' : rules.length ? 'alert' : 'pass';
  return { verdict, rules, command, args: words };
}

/** redis-cli's argument splitting (sdssplitargs); null when quotes are unbalanced. */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && /\s/u.test(line[i]!)) i++;
    if (i >= n) return out;
    let cur = '';
    let quote: '"' | "'" | null = null;
    for (;;) {
      const c = line[i];
      if (quote === '"') {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-f]{2}$/iu.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 4;
          continue;
        }
        if (c === '\\' && i + 1 < n) {
          const e = line[i + 1]!;
          cur += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[e] ?? e;
          i += 2;
          continue;
        }
        if (c === '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !/\s/u.test(line[i + 1]!)) return null;
          i++;
          break;
        }
        cur += c;
        i++;
      } else if (quote === "'") {
        if (c === undefined) return null;
        if (c === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          if (i + 1 < n && !/\s/u.test(line[i + 1]!)) return null;
          i++;
          break;
        }
        cur += c;
        i++;
      } else {
        if (c === undefined || /\s/u.test(c)) break;
        if (c === '"' || c === "'") quote = c;
        else cur += c;
        i++;
      }
    }
    out.push(cur);
  }
}
