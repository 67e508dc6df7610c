// A mixed corpus of SQL statements as people type them (reads, writes, DDL,
// procedures, strings with `;`, comments, `/*!` code), the same every run.
const TABLES = ['orders', 'users', 'items', 'audit_log', 'sessions'];
const COLS = ['id', 'status', 'created_at', 'email', 'amount', 'name'];

export function corpus(n: number, seed = 42): string[] {
  let s = seed;
  const rnd = (k: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % k;
  };
  const t = () => TABLES[rnd(TABLES.length)]!;
  const c = () => COLS[rnd(COLS.length)]!;
  const shapes: Array<() => string> = [
    () => `SELECT ${c()}, ${c()} FROM ${t()} WHERE ${c()} = ${rnd(1000)} ORDER BY ${c()} LIMIT ${rnd(100) + 1};`,
    () =>
      `SELECT o.id, u.email, SUM(o.amount) AS total FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status IN ('paid', 'sent') AND o.created_at > '2026-01-0${rnd(9) + 1}' GROUP BY o.id, u.email HAVING total > ${rnd(500)};`,
    () => `INSERT INTO ${t()} (${c()}, ${c()}) VALUES (${rnd(1e6)}, 'it''s; fine -- really');`,
    () => `UPDATE ${t()} SET ${c()} = 'x;y' WHERE id = ${rnd(1e6)};`,
    () => `DELETE FROM ${t()} WHERE id = ${rnd(1e6)} /* one row; only */;`,
    () => `SHOW CREATE TABLE ${t()};`,
    () => `DELETE FROM ${t()};`,
    () => `UPDATE ${t()} SET ${c()} = 0 WHERE 1 = 1;`,
    () => `/*!40101 SET NAMES utf8mb4 */;`,
    () => `DROP TABLE IF EXISTS tmp_${rnd(100)};`,
    () => `SELECT * FROM ${t()} WHERE ${c()} LIKE '%;%' -- trailing comment\n;`,
    () => `CREATE PROCEDURE p${rnd(1000)}() BEGIN UPDATE ${t()} SET ${c()} = 1 WHERE id = ${rnd(9)}; END;`,
  ];
  return Array.from({ length: n }, () => shapes[rnd(shapes.length)]!());
}
