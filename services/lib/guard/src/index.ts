// The command guard: pure, byte-stream in, byte-stream out; no SSH, no I/O.
export { CommandGuard, CLEAR_LINE } from './guard.js';
export type { GuardOptions, GuardResult, GuardEvent, GuardBlock, JudgedLine } from './guard.js';
export { compileRules, RuleCompileError, NOT_ALLOWED_RULE } from './rules.js';
export type {
  GuardRule,
  GuardMode,
  CompiledRules,
  MatchResult,
  MatchedRule,
  Verdict,
  RuleAction,
  RuleSeverity,
} from './rules.js';
export { DEMO_RULES } from './demo-rules.js';
export { StdinLineGuard, LINE_LIMIT_RULE } from './stdin-guard.js';
export type { StdinGuardOptions, StdinResult } from './stdin-guard.js';
export { judgeLine, judgeScript, blockReason, UNCHECKED_RULE, UNCHECKED_MESSAGE } from './judge.js';
export type { JudgeOptions } from './judge.js';
export { LogicalCommand } from './continuation.js';
export { DbGuard, BINARY_RULE } from './db-guard.js';
export type { DbDialect, DbGuardOptions } from './db-guard.js';
export { SqlSplitter } from './sql-split.js';
export type { SqlUnit } from './sql-split.js';
export { judgeSql, SQL_RULES, BLOCKED_CLIENT_COMMANDS } from './sql-judge.js';
export type { SqlJudgement } from './sql-judge.js';
export { judgeRedis, splitArgs, REDIS_RULES } from './redis-judge.js';
export type { RedisJudgement } from './redis-judge.js';
