// A rule built into a guard (SQL, Redis, limits), reported like a saved rule
// but with a string id and no pattern.
import type { MatchedRule, RuleSeverity } from './rules.js';

export function builtInRule(id: string, name: string, action: 'block' | 'alert', severity: RuleSeverity): MatchedRule {
  return Object.freeze({ id, name, pattern: '', action, severity, list: 'deny' as const });
}
