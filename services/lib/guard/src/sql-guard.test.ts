// The SQL guard as a table of cases: how input splits into what the client
// runs (delimiters, quotes, comments, `/*!` code, DELIMITER procedures, the
// client's own commands) and the verdict on each statement, blocked ones never
// forwarded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqlSplitter } from './sql-split.js';
import { judgeSql } from './sql-judge.js';
import { DbGuard } from './db-guard.js';

/** input → [text, terminator] of each unit, client commands as ['!name', text]. */
const SPLITS: Array<[string, string, Array<[string, string]>]> = [
  [
    'two statements on one line',
    'SELECT 1; SELECT 2;',
    [
      ['SELECT 1', ';'],
      ['SELECT 2', ';'],
    ],
  ],
  [
    'a ; in a string literal',
    'SELECT \';\' AS a; SELECT "x;y";',
    [
      ["SELECT ';' AS a", ';'],
      ['SELECT "x;y"', ';'],
    ],
  ],
  ['a ; in a backtick identifier', 'SELECT `a;b` FROM t;', [['SELECT `a;b` FROM t', ';']]],
  ['escaped quote in a string', "SELECT 'it\\'s;' ;", [["SELECT 'it\\'s;'", ';']]],
  ['doubled quote in a string', "SELECT 'a'';b';", [["SELECT 'a'';b'", ';']]],
  ['a ; in a block comment', 'SELECT /* ; */ 1;', [['SELECT /* ; */ 1', ';']]],
  ['a ; in a line comment', 'SELECT 1 -- ; not here\n;', [['SELECT 1 -- ; not here', ';']]],
  ['a ; after # comment', 'SELECT 1 # ;\n, 2;', [['SELECT 1 # ;\n, 2', ';']]],
  [
    '/*! */ is code: its ; ends the statement',
    'SELECT 1 /*!; DROP TABLE t */;',
    [
      ['SELECT 1 /*!', ';'],
      ['DROP TABLE t */', ';'],
    ],
  ],
  ['a statement over lines', 'SELECT\n  1\n;', [['SELECT\n  1', ';']]],
  ['a string over lines', "SELECT 'a\n;b';", [["SELECT 'a\n;b'", ';']]],
  [
    'DELIMITER // around a procedure',
    'DELIMITER //\nCREATE PROCEDURE p() BEGIN DELETE FROM t; END//\nDELIMITER ;\nSELECT 1;',
    [
      ['!delimiter', 'DELIMITER //'],
      ['CREATE PROCEDURE p() BEGIN DELETE FROM t; END', '//'],
      ['!delimiter', 'DELIMITER ;'],
      ['SELECT 1', ';'],
    ],
  ],
  ['\\G ends a statement', 'SELECT 1\\G', [['SELECT 1', '\\G']]],
  [
    '\\! takes the rest of the line',
    'SELECT 1 \\! ls ; x\n;',
    [
      ['!system', '\\! ls ; x'],
      ['SELECT 1', ';'],
    ],
  ],
  ['system at the start of a line', 'system ls -l', [['!system', 'system ls -l']]],
  ['system after a comment line is still a command', '-- hi\n/* x */\nsystem ls', [['!system', 'system ls']]],
  ['system inside a statement is SQL', 'SELECT a,\nsystem FROM t;', [['SELECT a,\nsystem FROM t', ';']]],
  [
    'source, tee, pager, edit',
    'source /etc/x.sql\ntee /tmp/o\npager less\nedit',
    [
      ['!source', 'source /etc/x.sql'],
      ['!tee', 'tee /tmp/o'],
      ['!pager', 'pager less'],
      ['!edit', 'edit'],
    ],
  ],
  [
    '\\c clears the statement',
    'DELETE FROM t \\c\nSELECT 1;',
    [
      ['!clear', '\\c'],
      ['SELECT 1', ';'],
    ],
  ],
  ['a comment alone is nothing', '-- only a comment\n;', []],
];

for (const [name, input, want] of SPLITS) {
  test(`split: ${name}`, () => {
    const s = new SqlSplitter();
    const units = [...input.split('\n').flatMap((l) => s.line(l)), ...s.end()];
    assert.deepEqual(
      units.map((u) => (u.kind === 'client' ? [`!${u.name}`, u.text] : [u.text, u.terminator])),
      want,
    );
  });
}

/** statement → verdict, and the id of the deciding rule. */
const VERDICTS: Array<[string, 'pass' | 'alert' | 'block', string?]> = [
  ['SELECT * FROM t WHERE id = 1', 'pass'],
  ["SELECT * FROM t WHERE a = 'DROP TABLE t'", 'pass'],
  ['SELECT TRUNCATE(1.5, 0)', 'pass'],
  ['INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1', 'pass'],
  ['SELECT * FROM t FOR UPDATE', 'pass'],
  ['DELETE FROM t WHERE id = 3', 'pass'],
  ['UPDATE t SET a = 1 WHERE id IN (1, 2)', 'pass'],
  ['SHOW GRANTS', 'pass'],
  ['DROP TABLE t', 'block', 'sql-drop'],
  ['drop database prod', 'block', 'sql-drop'],
  ['ALTER TABLE t DROP COLUMN a', 'block', 'sql-drop'],
  ['TRUNCATE t', 'block', 'sql-truncate'],
  ['TRUNCATE TABLE t', 'block', 'sql-truncate'],
  ['DELETE FROM t', 'block', 'sql-delete-all'],
  ['DELETE FROM t LIMIT 10', 'block', 'sql-delete-all'],
  ['DELETE FROM t WHERE 1', 'block', 'sql-delete-all'],
  ['DELETE FROM t WHERE 1 = 1', 'block', 'sql-delete-all'],
  ["DELETE FROM t WHERE 'a' = 'a'", 'block', 'sql-delete-all'],
  ['DELETE FROM t WHERE TRUE OR id = 3', 'block', 'sql-delete-all'],
  ['DELETE FROM t WHERE NOT 0', 'block', 'sql-delete-all'],
  ['DELETE FROM t WHERE id = id', 'block', 'sql-delete-all'],
  ["DELETE FROM t WHERE name LIKE '%'", 'block', 'sql-delete-all'],
  ['DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a', 'block', 'sql-delete-all'],
  ['UPDATE t SET a = 1', 'block', 'sql-update-all'],
  ['UPDATE t SET a = 1 WHERE 2 > 1', 'block', 'sql-update-all'],
  ["GRANT ALL ON *.* TO 'x'@'%'", 'block', 'sql-grant'],
  ['/*!40101 DROP TABLE t */', 'block', 'sql-drop'],
  ['/*M!100100 TRUNCATE t */', 'block', 'sql-truncate'],
  ['SELECT 1 /* DROP TABLE t */', 'pass'],
  ['SELECT 1 -- DROP TABLE t', 'pass'],
  // The grammar does not know these: keyword rules judge them, and say so (alert), never silently.
  ['CREATE PROCEDURE p() BEGIN DELETE FROM t; END', 'block', 'sql-delete-all'],
  ['CREATE PROCEDURE p() BEGIN DROP TABLE t; END', 'block', 'sql-drop'],
  ['CREATE PROCEDURE p() BEGIN DELETE FROM t WHERE id = 1; END', 'alert', 'sql-unparsed'],
  ["PREPARE s FROM 'DROP TABLE t'", 'block', 'sql-drop'],
  ["EXECUTE IMMEDIATE 'DELETE FROM t'", 'block', 'sql-delete-all'],
  ['PREPARE s FROM @q', 'alert', 'sql-dynamic'],
  ['REVOKE ALL ON *.* FROM x', 'alert', 'sql-unparsed'],
  ['FLUSH PRIVILEGES WITH ODD SYNTAX', 'alert', 'sql-unparsed'],
];

test('plain reads and inserts without a rule word are judged on their tokens; the rest is parsed', () => {
  assert.equal(judgeSql("SELECT a FROM t WHERE b = 'DROP TABLE x'").by, 'tokens');
  assert.equal(judgeSql('INSERT INTO t VALUES (1)').by, 'tokens');
  assert.equal(judgeSql('/*!40000 SELECT 1 */').by, 'tokens', 'executable comments are code: a SELECT');
  assert.equal(judgeSql('INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 1').by, 'parser');
  assert.equal(judgeSql('SELECT 1 /*! ; DROP TABLE t */').by, 'parser', 'a rule word in code: parsed');
  assert.equal(judgeSql('DELETE FROM t WHERE id = 1').by, 'parser');
  assert.equal(judgeSql('SELEC 1').by, 'keywords');
});

for (const [sql, verdict, ruleId] of VERDICTS) {
  test(`judge: ${sql} → ${verdict}`, () => {
    const j = judgeSql(sql);
    assert.equal(j.verdict, verdict, JSON.stringify(j.rules.map((r) => r.id)));
    if (ruleId) assert.equal(j.rules[0]?.id, ruleId);
    else assert.deepEqual(j.rules, []);
  });
}

test('the guard forwards passed statements whole and never a blocked one', () => {
  const g = new DbGuard({ dialect: 'mariadb' });
  const a = g.input(Buffer.from("SELECT ';'; DELETE FROM t; INSERT INTO t VALUES (1);\nSELECT\n"));
  assert.equal(a.forward.toString(), "SELECT ';';\nINSERT INTO t VALUES (1);\n");
  assert.equal(a.blocked.length, 1);
  assert.match(a.toUser.toString(), /blocked by rule "DELETE without a WHERE that limits it".*DELETE FROM t/u);
  assert.ok(g.pending, 'SELECT is held until its delimiter');
  const b = g.input(Buffer.from('2;\n'));
  assert.equal(b.forward.toString(), 'SELECT\n2;\n');
  assert.deepEqual(
    [...a.judged, ...b.judged].map((j) => [j.line, j.verdict]),
    [
      ["SELECT ';';", 'pass'],
      ['DELETE FROM t;', 'block'],
      ['INSERT INTO t VALUES (1);', 'pass'],
      ['SELECT\n2;', 'pass'],
    ],
  );
});

test('DELIMITER is forwarded so the client splits as the guard did', () => {
  const g = new DbGuard({ dialect: 'mariadb' });
  const r = g.input(Buffer.from('DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n'));
  assert.equal(r.forward.toString(), 'DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n');
});

test('a statement at EOF without its delimiter is judged and sent with one', () => {
  const g = new DbGuard({ dialect: 'mariadb' });
  assert.equal(g.input(Buffer.from('SELECT 1')).forward.length, 0);
  assert.equal(g.end().forward.toString(), 'SELECT 1;\n');
  const h = new DbGuard({ dialect: 'mariadb' });
  h.input(Buffer.from('DROP TABLE t'));
  const e = h.end();
  assert.equal(e.forward.length, 0);
  assert.equal(e.blocked[0]?.rule.id, 'sql-drop');
});

test('Ctrl-C forgets the statement being typed; nothing of it is sent', () => {
  const g = new DbGuard({ dialect: 'mariadb' });
  g.input(Buffer.from('DELETE FROM t\nWHERE '));
  g.interrupt();
  assert.equal(g.pending, false);
  assert.equal(g.input(Buffer.from('SELECT 1;\n')).forward.toString(), 'SELECT 1;\n');
});

test('a statement over the limit is refused whole, with a clear line; the next one passes', () => {
  const g = new DbGuard({ dialect: 'mariadb', maxStatementBytes: 4096 });
  const big = `INSERT INTO t VALUES ('${'x'.repeat(10_000)}');\nSELECT 1;\n`;
  const r = g.input(Buffer.from(big));
  assert.equal(r.forward.toString(), 'SELECT 1;\n');
  assert.equal(r.blocked[0]?.rule.id, 'sql-too-long');
  assert.match(r.toUser.toString(), /too long to check/u);
  const s = g.input(Buffer.from(`SELECT '${'y'.repeat(3000)}\n${'y'.repeat(3000)}';\nSELECT 2;\n`));
  assert.equal(s.blocked[0]?.rule.id, 'sql-too-long', 'over the limit across lines too');
  assert.equal(s.forward.toString(), 'SELECT 2;\n');
});

test('binary input is refused, the statement it was in dropped', () => {
  const g = new DbGuard({ dialect: 'mariadb' });
  const r = g.input(
    Buffer.concat([Buffer.from('SELECT 1,\n'), Buffer.from([0xff, 0x00, 0xfe, 0x0a]), Buffer.from('SELECT 2;\n')]),
  );
  assert.equal(r.forward.toString(), 'SELECT 2;\n');
  assert.equal(r.blocked[0]?.rule.id, 'db-binary');
});

test('an operator may turn a rule into an alert: judged, recorded, sent', () => {
  const g = new DbGuard({ dialect: 'mariadb', alertOnly: new Set(['sql-truncate']) });
  const r = g.input(Buffer.from('TRUNCATE t;\n'));
  assert.equal(r.forward.toString(), 'TRUNCATE t;\n');
  assert.equal(r.judged[0]?.verdict, 'alert');
});
