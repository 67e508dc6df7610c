// Network devices (DESIGN flow 10): switches, routers and firewalls that run no
// agent. jmp-ssh logs in with a device account whose secret is sealed to
// jmp-ssh's device key; this database holds the ciphertext and the public
// keys only. Access is the `device` right, granted on the device's service or
// project, with the organisation's defaults and requests like hosts.
import type { Knex } from 'knex';

/**
 * Adds values to an `IN (...)` check constraint, keeping the values other
 * migrations added to it (the constraint is rebuilt from its current text).
 */
async function extendInCheck(knex: Knex, table: string, name: string, column: string, add: string[]): Promise<void> {
  const r = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      WHERE t.relname = ? AND c.conname = ?`,
    [table, name],
  );
  const def = r.rows[0]?.def ?? '';
  const values = new Set([...def.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!));
  for (const v of add) values.add(v);
  const list = [...values].map((v) => `'${v}'`).join(',');
  await knex.raw(`ALTER TABLE ?? DROP CONSTRAINT IF EXISTS ??`, [table, name]);
  await knex.raw(`ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? IN (${list}))`, [table, name, column]);
}

async function shrinkInCheck(knex: Knex, table: string, name: string, column: string, drop: string[]): Promise<void> {
  const r = await knex.raw<{ rows: Array<{ def: string }> }>(
    `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
      WHERE t.relname = ? AND c.conname = ?`,
    [table, name],
  );
  const values = [...(r.rows[0]?.def ?? '').matchAll(/'([a-z_]+)'/g)]
    .map((m) => m[1]!)
    .filter((v) => !drop.includes(v));
  await knex.raw(`ALTER TABLE ?? DROP CONSTRAINT IF EXISTS ??`, [table, name]);
  await knex.raw(`ALTER TABLE ?? ADD CONSTRAINT ?? CHECK (?? IN (${values.map((v) => `'${v}'`).join(',')}))`, [
    table,
    name,
    column,
  ]);
}

/** The command rules every built-in profile starts with (RE2, judged on the submitted line). */
const DEVICE_RULES = [
  { name: 'reload', pattern: '(?i)^\\s*reload\\b', action: 'block', severity: 'critical' },
  { name: 'write erase', pattern: '(?i)^\\s*wr(ite)?\\s+er(ase)?\\b', action: 'block', severity: 'critical' },
  {
    name: 'erase startup-config',
    pattern: '(?i)^\\s*erase\\s+(startup-config|nvram:|flash:)',
    action: 'block',
    severity: 'critical',
  },
  { name: 'format', pattern: '(?i)^\\s*format\\b', action: 'block', severity: 'critical' },
  { name: 'delete', pattern: '(?i)^\\s*delete\\b', action: 'block', severity: 'high' },
];

/** Built-in vendor profiles; administrators add their own (POST /v1/device-profiles). */
const PROFILES = [
  { name: 'generic-ssh', spec: { rules: DEVICE_RULES } },
  {
    name: 'legacy-ssh',
    spec: {
      algorithms: {
        kex: ['diffie-hellman-group14-sha1', 'diffie-hellman-group1-sha1'],
        serverHostKey: ['ssh-rsa'],
        cipher: ['aes128-cbc', 'aes256-cbc', '3des-cbc'],
        hmac: ['hmac-sha1'],
      },
      rules: DEVICE_RULES,
    },
  },
  { name: 'generic-telnet', spec: { rules: DEVICE_RULES } },
];

export async function up(knex: Knex): Promise<void> {
  // Vendor profiles: prompt and paging patterns, login sequence, SSH algorithms
  // and the device's command rules, as one validated JSON document.
  await knex.schema.createTable('device_profiles', (t) => {
    t.increments('id');
    t.string('name', 64).notNullable().unique();
    t.jsonb('spec').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex('device_profiles').insert(PROFILES.map((p) => ({ name: p.name, spec: JSON.stringify(p.spec) })));

  await knex.schema.createTable('devices', (t) => {
    t.increments('id');
    t.string('name', 253).notNullable().unique();
    t.string('address', 253).notNullable();
    t.integer('port').notNullable();
    t.string('protocol', 8).notNullable();
    t.string('state', 16).notNullable().defaultTo('online');
    t.integer('profile_id').notNullable().references('device_profiles.id').onDelete('RESTRICT');
    t.integer('service_id').references('services.id').onDelete('RESTRICT');
    /** The pinned SSH host key ("type base64"), null until given or pinned on first use by an administrator. */
    t.text('host_key');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE devices ADD CONSTRAINT devices_protocol CHECK (protocol IN ('ssh','telnet'))`);
  await knex.raw(`ALTER TABLE devices ADD CONSTRAINT devices_state CHECK (state IN ('online','offline'))`);
  await knex.raw(`ALTER TABLE devices ADD CONSTRAINT devices_port CHECK (port BETWEEN 1 AND 65535)`);
  await knex.raw(`CREATE INDEX devices_service ON devices(service_id)`);

  // The device-secrets public keys; the highest version seals new secrets.
  await knex.schema.createTable('device_keys', (t) => {
    t.integer('version').primary();
    t.text('public_key').notNullable().unique();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('device_accounts', (t) => {
    t.increments('id');
    t.integer('device_id').notNullable().references('devices.id').onDelete('CASCADE');
    t.string('name', 64).notNullable();
    /** Ciphertext only (@jmp/contract/device-secrets); null until an administrator sets it. */
    t.binary('sealed_secret');
    t.integer('key_version').references('device_keys.version').onDelete('RESTRICT');
    t.timestamp('secret_set_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['device_id', 'name']);
  });
  await knex.raw(
    `ALTER TABLE device_accounts ADD CONSTRAINT device_accounts_sealed CHECK ((sealed_secret IS NULL) = (key_version IS NULL))`,
  );

  await knex.schema.alterTable('sessions', (t) => {
    t.integer('device_id').references('devices.id').onDelete('SET NULL');
  });

  await extendInCheck(knex, 'grants', 'grants_right', 'right', ['device']);
}

export async function down(knex: Knex): Promise<void> {
  await knex('grants').where({ right: 'device' }).delete();
  await shrinkInCheck(knex, 'grants', 'grants_right', 'right', ['device']);
  await knex.schema.alterTable('sessions', (t) => {
    t.dropColumn('device_id');
  });
  await knex.schema.dropTable('device_accounts');
  await knex.schema.dropTable('device_keys');
  await knex.schema.dropTable('devices');
  await knex.schema.dropTable('device_profiles');
}
