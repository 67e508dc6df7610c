// The verdict on one submission: the lines it submits, the command the shell
// is still reading (continued lines, a here-doc) and the rules give the lines
// judged (pass, alert, or refused when the rules could not be checked — see
// judge.ts) and, when any line is blocked, the block with its rule and the
// one line that tells the person why. Each line is judged alone and joined
// with its earlier lines; a here-doc body's lines are judged as commands.
// Pure: no screen, no keys, no I/O.
import type { GuardBlock, JudgedLine } from './guard.js';
import type { MatchedRule } from './rules.js';
import { judgeLine, blockReason, UNCHECKED_RULE, type JudgeOptions } from './judge.js';
import type { LogicalCommand } from './continuation.js';
import type { SubmittedLine } from './submission.js';

/** Reported when a command continued over more lines than can be checked is refused. */
export const CONTINUED_LIMIT_RULE: MatchedRule = Object.freeze({
  id: 'continued-limit',
  name: 'command continued too long to check',
  pattern: '',
  action: 'block',
  severity: 'high',
  list: 'deny',
});

export interface SubmissionVerdict {
  /** Every line judged, in order. */
  judged: JudgedLine[];
  /** Set when the submission must not reach the target. */
  blocked?: GuardBlock;
  /** The command the shell is still reading after these lines (a new object; meaningful when not blocked). */
  logical: LogicalCommand;
}

/** Judges `lines`, submitted while the shell was reading `pending` (left unchanged). */
export function judgeSubmission(
  lines: readonly SubmittedLine[],
  pending: LogicalCommand,
  o: JudgeOptions,
): SubmissionVerdict {
  const judged: JudgedLine[] = [];
  let worst: { j: JudgedLine; rule: MatchedRule } | undefined;
  const logical = pending.clone();
  for (const { line, source, partial } of lines) {
    const c = partial ? { texts: [line.trim()].filter(Boolean), overflow: false } : logical.feed(line);
    if (c.overflow && !worst) {
      const j: JudgedLine = { line: line.trim(), verdict: 'block', rules: [CONTINUED_LIMIT_RULE], source };
      judged.push(j);
      worst = { j, rule: CONTINUED_LIMIT_RULE };
    }
    for (const text of c.texts) {
      const j = judgeLine(text, source, o);
      judged.push(j);
      if (j.verdict === 'block' && !worst) {
        const rule = j.rules.find((r) => r.action === 'block') ?? j.rules[0];
        if (rule) worst = { j, rule };
      }
    }
  }
  if (!worst) return { judged, logical };
  const { j, rule } = worst;
  const n = lines.filter((l) => l.line.trim() !== '').length;
  const why =
    rule.id === 'allow-list'
      ? 'it is not on the allow-list of this service'
      : rule.id === UNCHECKED_RULE.id
        ? 'the command rules could not be checked in time'
        : `rule ${JSON.stringify(rule.name)} (${rule.severity})`;
  const message =
    n > 1
      ? `jmp: blocked a pasted block of ${n} lines by ${why}: ${clip(j.line)}; nothing of it was sent`
      : rule === CONTINUED_LIMIT_RULE
        ? `jmp: blocked: a command continued over more than ${pending.maxBytes} bytes cannot be checked`
        : blockReason(rule);
  return { judged, logical, blocked: { line: j.line, rule, rules: j.rules, message } };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
