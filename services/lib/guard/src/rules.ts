// Command rules: compiled once per rule set with RE2 (linear time, never JS
// RegExp), matched per submitted line with one RE2.Set automaton per list.
// Pure: no I/O, no terminal, no SSH.
import RE2 from 're2';
import { JmpError } from '@jmp/contract';

export type RuleAction = 'alert' | 'block';
export type RuleSeverity = 'low' | 'medium' | 'high' | 'critical';
export type RuleList = 'deny' | 'allow';
/** deny-list: matching deny rules act, everything else passes (default).
 *  allow-list: a line must match an allow rule; deny rules still act on it. */
export type GuardMode = 'deny-list' | 'allow-list';
export type Verdict = 'pass' | 'alert' | 'block';

export interface GuardRule {
  id: number | string;
  name: string;
  /** RE2 syntax, unanchored; use (?i) for case-insensitive. */
  pattern: string;
  action: RuleAction;
  severity: RuleSeverity;
  list: RuleList;
}

/** A rule as reported in a verdict (the pattern is kept for the audit trail). */
export type MatchedRule = Readonly<GuardRule>;

export interface MatchResult {
  verdict: Verdict;
  /** Every rule that matched (deny rules; in allow-list mode also the allow rules that let the line in). */
  rules: MatchedRule[];
  /** Set when the verdict is block: the rule that decided (the most severe blocking rule). */
  blockedBy?: MatchedRule;
  /** allow-list mode: the line matched no allow rule. */
  notAllowed?: boolean;
}

export interface CompiledRules {
  readonly mode: GuardMode;
  readonly size: number;
  match(line: string): MatchResult;
}

/** The synthetic rule reported when allow-list mode blocks a line no allow rule covers. */
export const NOT_ALLOWED_RULE: MatchedRule = Object.freeze({
  id: 'allow-list',
  name: 'not on the allow-list',
  pattern: '',
  action: 'block',
  severity: 'high',
  list: 'allow',
});

type RE2Set = InstanceType<typeof RE2.Set>;

const SEVERITY_RANK: Record<RuleSeverity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export function severityRank(s: RuleSeverity): number {
  return SEVERITY_RANK[s];
}

export class RuleCompileError extends JmpError {
  constructor(
    readonly rule: Pick<GuardRule, 'id' | 'name' | 'pattern'>,
    readonly reason: string,
  ) {
    super('bad_request', `rule ${JSON.stringify(rule.name)} (id ${rule.id}): the pattern is not valid RE2: ${reason}`, {
      ruleId: rule.id,
      ruleName: rule.name,
    });
    this.name = 'RuleCompileError';
  }
}

function compileOne(rule: GuardRule): void {
  if (typeof rule.pattern !== 'string' || rule.pattern.length === 0)
    throw new RuleCompileError(rule, 'the pattern is empty');
  try {
    // Compiled alone first so that an error names the rule; the Set compiles it again.
    new RE2(rule.pattern, 'u');
  } catch (e) {
    throw new RuleCompileError(rule, e instanceof Error ? e.message : String(e));
  }
}

class RuleSet implements CompiledRules {
  readonly size: number;
  private readonly deny: RE2Set | null;
  private readonly allow: RE2Set | null;

  constructor(
    readonly mode: GuardMode,
    private readonly denyRules: MatchedRule[],
    private readonly allowRules: MatchedRule[],
  ) {
    this.size = denyRules.length + allowRules.length;
    this.deny = denyRules.length
      ? new RE2.Set(
          denyRules.map((r) => r.pattern),
          'u',
        )
      : null;
    this.allow =
      allowRules.length && mode === 'allow-list'
        ? new RE2.Set(
            allowRules.map((r) => r.pattern),
            'u',
          )
        : null;
  }

  match(line: string): MatchResult {
    const rules: MatchedRule[] = [];
    let blockedBy: MatchedRule | undefined;
    let alert = false;
    if (this.deny) {
      for (const i of this.deny.match(line)) {
        const r = this.denyRules[i];
        if (!r) continue;
        rules.push(r);
        if (r.action === 'block') {
          if (!blockedBy || SEVERITY_RANK[r.severity] > SEVERITY_RANK[blockedBy.severity]) blockedBy = r;
        } else alert = true;
      }
    }
    let notAllowed = false;
    if (this.mode === 'allow-list' && line.trim() !== '') {
      const hits = this.allow ? this.allow.match(line) : [];
      if (hits.length === 0) notAllowed = true;
      for (const i of hits) {
        const r = this.allowRules[i];
        if (r) rules.push(r);
      }
      if (notAllowed && !blockedBy) blockedBy = NOT_ALLOWED_RULE;
    }
    const verdict: Verdict = blockedBy ? 'block' : alert ? 'alert' : 'pass';
    const out: MatchResult = { verdict, rules };
    if (blockedBy) out.blockedBy = blockedBy;
    if (notAllowed) out.notAllowed = true;
    return out;
  }
}

/**
 * Compiles a rule set. Throws RuleCompileError (code bad_request) naming the
 * first rule whose pattern RE2 rejects. In deny-list mode allow rules are
 * ignored; in allow-list mode a non-empty line that matches no allow rule is
 * blocked (rule NOT_ALLOWED_RULE), and deny rules still act.
 */
export function compileRules(rules: readonly GuardRule[], opts: { mode?: GuardMode } = {}): CompiledRules {
  const mode = opts.mode ?? 'deny-list';
  if (mode !== 'deny-list' && mode !== 'allow-list')
    throw new JmpError('bad_request', `unknown guard mode ${JSON.stringify(mode)}: use deny-list or allow-list`);
  const deny: MatchedRule[] = [];
  const allow: MatchedRule[] = [];
  for (const rule of rules) {
    compileOne(rule);
    const frozen = Object.freeze({ ...rule });
    if (rule.list === 'allow') allow.push(frozen);
    else deny.push(frozen);
  }
  return new RuleSet(mode, deny, allow);
}
