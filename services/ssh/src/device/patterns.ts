// A profile's patterns (prompt, login steps, failure lines) are RE2, compiled
// the way the guard compiles rules, so a pattern jmp-api accepted matches here.
import { compileRules } from '@jmp/guard';

/** True when the pattern matches `text` (unanchored, like a guard rule). */
export function matcher(pattern: string): (text: string) => boolean {
  const m = compileRules([{ id: 'pattern', name: 'pattern', pattern, action: 'alert', severity: 'low', list: 'deny' }]);
  return (text) => m.match(text).verdict !== 'pass';
}
