// The MariaDB account plan: roles per level on every non-system database,
// accounts created, moved between roles and dropped with the right; accounts
// jmp did not create are never touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMariadb, quoteName } from './mariadb-plan.js';

const state = (users: string[], roles: Record<string, string[]>, databases = ['app', 'mysql']) => ({
  localUsers: new Set(users),
  jmpRoles: new Map(Object.entries(roles)),
  databases,
});

test('roles get their level on every database but the system ones', () => {
  const p = planMariadb(state([], {}), new Map());
  assert.ok(p.sql.includes('GRANT SELECT, SHOW VIEW ON `app`.* TO jmp_read'));
  assert.ok(
    p.sql.some((s) => s.startsWith('GRANT SELECT, SHOW VIEW, INSERT, UPDATE, DELETE') && s.endsWith('TO jmp_write')),
  );
  assert.ok(p.sql.some((s) => /DROP.*ON `app`\.\* TO jmp_admin/u.test(s)));
  assert.ok(!p.sql.some((s) => s.includes('`mysql`')), 'never the mysql schema');
});

test('a new person gets an account via unix_socket and her role as default', () => {
  const p = planMariadb(state([], {}), new Map([['alice', 'write']]));
  const mine = p.sql.filter((s) => s.includes("'alice'"));
  assert.deepEqual(mine, [
    "CREATE USER 'alice'@'localhost' IDENTIFIED VIA unix_socket",
    "GRANT jmp_write TO 'alice'@'localhost'",
    "SET DEFAULT ROLE jmp_write FOR 'alice'@'localhost'",
  ]);
  assert.deepEqual(p.reduced, []);
});

test('a lower right moves her to the lower role and ends her connections; a gone right drops the account', () => {
  const p = planMariadb(
    state(['alice', 'bob'], { alice: ['jmp_write'], bob: ['jmp_read'] }),
    new Map([['alice', 'read']]),
  );
  const mine = p.sql.filter((s) => s.includes("'alice'") || s.includes("'bob'"));
  assert.deepEqual(mine, [
    "REVOKE jmp_write FROM 'alice'@'localhost'",
    "GRANT jmp_read TO 'alice'@'localhost'",
    "SET DEFAULT ROLE jmp_read FOR 'alice'@'localhost'",
    "DROP USER IF EXISTS 'bob'@'localhost'",
  ]);
  assert.deepEqual(p.reduced.sort(), ['alice', 'bob']);
});

test('an account jmp did not create is left alone and reported', () => {
  const p = planMariadb(state(['carol'], {}), new Map([['carol', 'admin']]));
  assert.deepEqual(p.foreign, ['carol']);
  assert.ok(!p.sql.some((s) => s.includes("'carol'")));
});

test("the server's own accounts are never touched, even when named in the policy", () => {
  const p = planMariadb(state(['root'], { root: ['jmp_read'] }), new Map([['root', 'admin']]));
  assert.ok(!p.sql.some((s) => s.includes("'root'")));
  assert.deepEqual(p.reduced, []);
});

test('names are quoted', () => {
  assert.equal(quoteName("o'neil\\x"), "'o''neil\\\\x'");
});
