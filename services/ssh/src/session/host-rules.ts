// A host's guard rules from jmp-api, compiled once per distinct rule set
// (compiling 1,000 RE2 rules takes ~150 ms; sessions on a host share them).
import { createHash } from 'node:crypto';
import type { ApiClient } from '@jmp/contract';
import type { Logger } from '@jmp/runtime';
import { compileRules, type CompiledRules, type GuardRule } from '@jmp/guard';

const compiled = new Map<string, CompiledRules>();
const MAX_SETS = 500;

/**
 * The compiled rules, or null when they cannot be had within `budgetMs`: the
 * session is then refused, unless JMP_SSH_GUARD_FAIL_OPEN lets its lines pass as guard_skipped.
 */
export async function loadRules(
  api: ApiClient,
  host: string,
  log: Logger,
  budgetMs = 2000,
): Promise<CompiledRules | null> {
  try {
    const r = await Promise.race([
      api.guardRules(host),
      new Promise<null>((res) => setTimeout(() => res(null), budgetMs).unref()),
    ]);
    if (!r) {
      log.warn({ host }, 'guard rules did not arrive in time');
      return null;
    }
    const key = createHash('sha256')
      .update(JSON.stringify([r.mode, r.rules]))
      .digest('hex');
    let c = compiled.get(key);
    if (!c) {
      c = compileRules(
        r.rules.map((x): GuardRule => ({
          id: x.id,
          name: x.name,
          pattern: x.pattern,
          action: x.action,
          severity: x.severity as GuardRule['severity'],
          list: x.list,
        })),
        { mode: r.mode },
      );
      if (compiled.size >= MAX_SETS) compiled.clear();
      compiled.set(key, c);
    }
    return c;
  } catch (err) {
    log.error({ host, err: (err as Error).message }, 'guard rules could not be loaded');
    return null;
  }
}
