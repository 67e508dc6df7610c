// One line against the rules, the same way on every path (screen guard,
// stdin guard, one-shot command): a line that cannot be checked — no rules,
// or matching took longer than the budget — is refused, unless the operator
// turned on JMP_SSH_GUARD_FAIL_OPEN (then it passes, recorded as skipped).
import type { GuardEvent, JudgedLine } from './guard.js';
import type { CompiledRules, MatchedRule } from './rules.js';
import { LogicalCommand } from './continuation.js';

export interface JudgeOptions {
  /** null: the rules could not be had. */
  rules: CompiledRules | null;
  /** Matching time allowed per line (ms). */
  budgetMs: number;
  /** JMP_SSH_GUARD_FAIL_OPEN: a line that cannot be checked passes as guard_skipped instead of being refused. */
  failOpen: boolean;
  now: () => number;
  onEvent: (e: GuardEvent) => void;
}

/** Reported when a line is refused because the rules could not be checked (missing, or over budget). */
export const UNCHECKED_RULE: MatchedRule = Object.freeze({
  id: 'unchecked',
  name: 'rules could not be checked',
  pattern: '',
  action: 'block',
  severity: 'high',
  list: 'deny',
});

export const UNCHECKED_MESSAGE = 'jmp: the command rules could not be checked in time; the line was not sent';

export function judgeLine(line: string, source: 'screen' | 'input', o: JudgeOptions): JudgedLine {
  if (!o.rules) return unchecked(line, source, o, 'no_rules', 0, []);
  const t0 = o.now();
  const m = o.rules.match(line);
  const elapsedMs = o.now() - t0;
  // RE2 cannot be interrupted: the overrun is found after the fact, and then the verdict is not trusted.
  if (elapsedMs > o.budgetMs) return unchecked(line, source, o, 'budget', elapsedMs, m.rules);
  const rules = m.blockedBy ? [m.blockedBy, ...m.rules.filter((r) => r !== m.blockedBy)] : m.rules;
  return { line, verdict: m.verdict, rules, source };
}

function unchecked(
  line: string,
  source: 'screen' | 'input',
  o: JudgeOptions,
  reason: 'budget' | 'no_rules',
  elapsedMs: number,
  matched: MatchedRule[],
): JudgedLine {
  if (o.failOpen) {
    o.onEvent({ type: 'guard_skipped', reason, line, elapsedMs, budgetMs: o.budgetMs });
    return { line, verdict: 'pass', rules: matched, source, skipped: reason };
  }
  o.onEvent({ type: 'guard_refused', reason, line, elapsedMs, budgetMs: o.budgetMs });
  return { line, verdict: 'block', rules: [UNCHECKED_RULE], source };
}

/** The one line telling the person why `rule` blocked a line (without line ends). */
export function blockReason(rule: MatchedRule): string {
  if (rule.id === UNCHECKED_RULE.id) return UNCHECKED_MESSAGE;
  if (rule.id === 'allow-list') return 'jmp: blocked: it is not on the allow-list of this service';
  return `jmp: blocked by rule ${JSON.stringify(rule.name)} (${rule.severity})`;
}

/**
 * A one-shot command (the target's shell runs it as a script): judged whole,
 * and line by line as the shell reads it (continued lines joined, here-doc
 * bodies as commands), so a newline in it hides nothing.
 */
export function judgeScript(script: string, o: JudgeOptions): JudgedLine[] {
  const texts = [script.trim()];
  const c = new LogicalCommand(script.length + 1);
  for (const l of script.split('\n')) for (const t of c.feed(l).texts) if (!texts.includes(t)) texts.push(t);
  return texts.filter((t) => t !== '').map((t) => judgeLine(t, 'input', o));
}
