// The verdict on one SQL statement (MariaDB/MySQL): parsed with
// node-sql-parser's MariaDB grammar and judged on its tree; a statement the
// grammar does not know (procedures, PREPARE, vendor syntax) is judged by
// keyword rules over its tokens instead, and that fallback is itself an alert,
// so nothing passes unjudged. `/*! … */` is code: its content is judged.
// The database's grants are the enforcement; this is the early refusal that
// says why. Pure: no I/O.
import mariadb from 'node-sql-parser/build/mariadb.js';
import type { MatchedRule, Verdict } from './rules.js';
import { builtInRule as rule } from './builtin-rule.js';

const { Parser } = mariadb;
const parser = new Parser();

/** The built-in SQL rules, blocked unless the operator turns them to alerts. */
export const SQL_RULES = Object.freeze({
  drop: rule('sql-drop', 'DROP', 'block', 'critical'),
  truncate: rule('sql-truncate', 'TRUNCATE', 'block', 'critical'),
  deleteAll: rule('sql-delete-all', 'DELETE without a WHERE that limits it', 'block', 'high'),
  updateAll: rule('sql-update-all', 'UPDATE without a WHERE that limits it', 'block', 'high'),
  grant: rule('sql-grant', 'GRANT', 'block', 'high'),
  clientCommand: rule('sql-client-command', "the client's shell, file and editor commands", 'block', 'high'),
  tooLong: rule('sql-too-long', 'statement too long to check', 'block', 'high'),
  unparsed: rule('sql-unparsed', 'not understood by the SQL parser; judged by keywords', 'alert', 'low'),
  dynamic: rule('sql-dynamic', 'dynamic SQL from a variable', 'alert', 'medium'),
});

/** Client commands refused by default: they reach the shell, files or an editor on the target. */
export const BLOCKED_CLIENT_COMMANDS = new Set(['system', 'source', 'tee', 'pager', 'edit']);

export interface SqlJudgement {
  verdict: Verdict;
  /** Every rule that matched, the deciding one first. */
  rules: MatchedRule[];
  /**
   * How it was judged: on the parse tree; by keywords after the parser gave up; or on its tokens alone,
   * when it is a plain read or insert (SELECT, SHOW, INSERT, SET, …) none of whose words can start a rule
   * (no DROP, TRUNCATE, GRANT, DELETE, UPDATE, ALTER, PREPARE, EXECUTE outside strings and comments), so
   * no tree could block it either; the parse would only cost time on the most common statements.
   */
  by: 'parser' | 'keywords' | 'tokens';
}

/** Statements longer than this are judged by keywords only (the grammar is not linear time). */
const PARSE_LIMIT = 64 * 1024;

/** The words any rule starts from. */
const RULE_WORDS = new Set(['DROP', 'TRUNCATE', 'GRANT', 'DELETE', 'UPDATE', 'ALTER', 'PREPARE', 'EXECUTE']);
/** Statements that begin so and hold no rule word are judged on their tokens (the grammar could find nothing more). */
const PLAIN_STARTS = new Set(['SELECT', 'SHOW', 'DESCRIBE', 'DESC', 'EXPLAIN', 'INSERT', 'REPLACE', 'SET', 'USE']);

export function judgeSql(statement: string, depth = 0): SqlJudgement {
  const { code, tokens } = lex(statement);
  const first = tokens[0];
  const plain = first?.kind === 'word' && PLAIN_STARTS.has(first.value);
  if (plain && !tokens.some((t) => t.kind === 'word' && RULE_WORDS.has(t.value)))
    return { verdict: 'pass', rules: [], by: 'tokens' };
  let found: MatchedRule[] = [];
  let by: SqlJudgement['by'] = 'parser';
  let ast: unknown;
  if (code.length <= PARSE_LIMIT) {
    try {
      ast = parser.astify(code, { database: 'MariaDB' });
    } catch {
      ast = undefined;
    }
  }
  if (ast !== undefined) {
    for (const node of Array.isArray(ast) ? ast : [ast]) found.push(...judgeTree(node as Node));
  } else {
    by = 'keywords';
    found = judgeTokens(tokens, depth);
    found.push(SQL_RULES.unparsed);
  }
  return verdictOf(found, by);
}

function verdictOf(found: MatchedRule[], by: SqlJudgement['by']): SqlJudgement {
  const rules = [...new Set(found)].sort((a, b) => (a.action === b.action ? 0 : a.action === 'block' ? -1 : 1));
  const verdict: Verdict = rules.some((r) => r.action === 'block') ? 'block' : rules.length ? 'alert' : 'pass';
  return { verdict, rules, by };
}

// ---- the parse tree

interface Node {
  type?: string;
  [k: string]: unknown;
}

function judgeTree(n: Node): MatchedRule[] {
  switch (n.type) {
    case 'drop':
      return [SQL_RULES.drop];
    case 'truncate':
      return [SQL_RULES.truncate];
    case 'grant':
      return [SQL_RULES.grant];
    case 'delete':
      return unbounded(n.where) ? [SQL_RULES.deleteAll] : [];
    case 'update':
      return unbounded(n.where) ? [SQL_RULES.updateAll] : [];
    case 'alter': {
      const actions = Array.isArray(n.expr) ? (n.expr as Node[]) : [];
      return actions.some((a) => a.action === 'drop') ? [SQL_RULES.drop] : [];
    }
    default:
      return [];
  }
}

function unbounded(where: unknown): boolean {
  return where === null || where === undefined || truth(where as Node) === true;
}

/** The value of a WHERE that does not depend on the row: true, false, or undefined when it does depend on it. */
function truth(e: Node): boolean | undefined {
  const v = constant(e);
  if (v !== undefined) return v !== null && v !== 0 && v !== false && !(typeof v === 'string' && Number(v) === 0);
  if (e.type === 'unary_expr' && String(e.operator).toUpperCase() === 'NOT') {
    const t = truth(e.expr as Node);
    return t === undefined ? undefined : !t;
  }
  if (e.type === 'binary_expr') {
    const op = String(e.operator).toUpperCase();
    const l = e.left as Node;
    const r = e.right as Node;
    if (op === 'OR' || op === '||') {
      const a = truth(l),
        b = truth(r);
      return a === true || b === true ? true : a === false && b === false ? false : undefined;
    }
    if (op === 'AND' || op === '&&') {
      const a = truth(l),
        b = truth(r);
      return a === false || b === false ? false : a === true && b === true ? true : undefined;
    }
    // x = x, x <=> x, x LIKE '%': true for every row where x is not NULL — the whole table in practice.
    if (['=', '<=>', '>=', '<='].includes(op) && sameColumn(l, r)) return true;
    if (op === 'LIKE' && constant(r) === '%') return true;
    const a = constant(l),
      b = constant(r);
    if (a === undefined || b === undefined) return undefined;
    if (op === 'IS' || op === 'IS NOT') return op === 'IS' ? a === b : a !== b;
    if (a === null || b === null) return false;
    const [x, y] = typeof a === 'string' && typeof b === 'string' ? [a, b] : [Number(a), Number(b)];
    switch (op) {
      case '=':
      case '<=>':
        return x === y;
      case '!=':
      case '<>':
        return x !== y;
      case '<':
        return x < y;
      case '>':
        return x > y;
      case '<=':
        return x <= y;
      case '>=':
        return x >= y;
      default:
        return undefined;
    }
  }
  return undefined;
}

function constant(e: Node | null | undefined): string | number | boolean | null | undefined {
  if (!e || typeof e !== 'object') return undefined;
  switch (e.type) {
    case 'number':
      return Number(e.value);
    case 'bool':
      return Boolean(e.value);
    case 'null':
      return null;
    case 'single_quote_string':
    case 'double_quote_string':
    case 'string':
      return String(e.value);
    default:
      return undefined;
  }
}

function sameColumn(l: Node, r: Node): boolean {
  return (
    l?.type === 'column_ref' &&
    r?.type === 'column_ref' &&
    JSON.stringify([l.table, l.column]) === JSON.stringify([r.table, r.column])
  );
}

// ---- tokens: what the server sees (comments dropped, `/*! … */` unwrapped)

interface Token {
  kind: 'word' | 'ident' | 'string' | 'number' | 'var' | 'punct';
  /** Words upper-cased; strings unquoted. */
  value: string;
}

/** The statement as code for the parser (comments blanked, executable comments opened) and its tokens. */
export function lex(sql: string): { code: string; tokens: Token[] } {
  let code = '';
  const tokens: Token[] = [];
  let i = 0;
  let execDepth = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '/' && sql[i + 1] === '*') {
      const m = /^\/\*M?!\d*/u.exec(sql.slice(i, i + 12));
      if (m) {
        execDepth++;
        code += ' ';
        i += m[0].length;
        continue;
      }
      const end = sql.indexOf('*/', i + 2);
      code += ' ';
      i = end < 0 ? sql.length : end + 2;
      continue;
    }
    if (c === '*' && sql[i + 1] === '/' && execDepth > 0) {
      execDepth--;
      code += ' ';
      i += 2;
      continue;
    }
    if (c === '#' || (c === '-' && sql[i + 1] === '-' && (i + 2 >= sql.length || /\s/u.test(sql[i + 2]!)))) {
      const end = sql.indexOf('\n', i);
      code += ' ';
      i = end < 0 ? sql.length : end;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let value = '';
      while (j < sql.length) {
        const d = sql[j]!;
        if (d === '\\' && c !== '`') {
          value += sql[j + 1] ?? '';
          j += 2;
          continue;
        }
        if (d === c) {
          if (sql[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += d;
        j++;
      }
      tokens.push({ kind: c === '`' ? 'ident' : 'string', value });
      code += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const w = /^(?:[@]{1,2}[\w$.]*|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|0x[0-9a-f]+)/iu.exec(
      sql.slice(i, i + 256),
    );
    if (w) {
      const s = w[0];
      tokens.push({
        kind: s.startsWith('@') ? 'var' : /^\d/u.test(s) ? 'number' : 'word',
        value: /^\d/u.test(s) || s.startsWith('@') ? s : s.toUpperCase(),
      });
      code += s;
      i += s.length;
      continue;
    }
    if (!/\s/u.test(c)) tokens.push({ kind: 'punct', value: c });
    code += c;
    i++;
  }
  return { code, tokens };
}

/** Keyword rules, for statements the grammar does not know; procedure bodies are scanned whole. */
function judgeTokens(t: Token[], depth: number): MatchedRule[] {
  const found: MatchedRule[] = [];
  const word = (k: number) => (t[k]?.kind === 'word' ? t[k].value : '');
  for (let k = 0; k < t.length; k++) {
    const w = word(k);
    if (!w) continue;
    const before = word(k - 1);
    const next = t[k + 1];
    if (w === 'DROP') found.push(SQL_RULES.drop);
    else if (w === 'TRUNCATE' && next?.value !== '(') found.push(SQL_RULES.truncate);
    else if (w === 'GRANT' && before !== 'WITH') found.push(SQL_RULES.grant);
    else if ((w === 'DELETE' || w === 'UPDATE') && !['ON', 'FOR', 'KEY', 'SKIP'].includes(before)) {
      if (next?.value === '(') continue; // a function or column named so
      const end = t.findIndex((x, j) => j > k && x.kind === 'punct' && x.value === ';');
      const body = t.slice(k + 1, end < 0 ? t.length : end);
      const at = body.findIndex((x) => x.kind === 'word' && x.value === 'WHERE');
      if (at < 0 || constantWhere(body.slice(at + 1)))
        found.push(w === 'DELETE' ? SQL_RULES.deleteAll : SQL_RULES.updateAll);
    } else if (w === 'PREPARE' || (w === 'EXECUTE' && word(k + 1) === 'IMMEDIATE')) {
      // The statement a PREPARE or EXECUTE IMMEDIATE runs is judged like one typed.
      const from = w === 'PREPARE' ? t.findIndex((x, j) => j > k && x.kind === 'word' && x.value === 'FROM') : k + 1;
      const src = from < 0 ? undefined : t[from + 1];
      if (src?.kind === 'string' && depth < 4) found.push(...judgeSql(src.value, depth + 1).rules);
      else if (src) found.push(SQL_RULES.dynamic);
    }
  }
  return found.filter((r) => r !== SQL_RULES.unparsed);
}

/** A WHERE clause (keyword fallback) that names no column, or compares one thing with itself. */
function constantWhere(w: Token[]): boolean {
  const stop = w.findIndex((x) => x.kind === 'word' && ['ORDER', 'LIMIT', 'RETURNING'].includes(x.value));
  const clause = stop < 0 ? w : w.slice(0, stop);
  const names = clause.filter(
    (x) =>
      x.kind === 'ident' ||
      (x.kind === 'word' && !['TRUE', 'FALSE', 'NOT', 'OR', 'AND', 'NULL', 'IS'].includes(x.value)),
  );
  if (names.length === 0) return true;
  const [a, op, b] = clause;
  return clause.length === 3 && op?.value === '=' && a?.kind === b?.kind && a?.value === b?.value;
}
