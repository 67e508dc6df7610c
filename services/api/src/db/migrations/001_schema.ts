// The jmp data model. Checks live in the database too, so a bug above cannot
// store what the model forbids.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE SEQUENCE jmp_uid_seq START 200000 MINVALUE 1000`);

  await knex.schema.createTable('departments', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.integer('parent_id').references('departments.id').onDelete('RESTRICT');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('username', 32).notNullable().unique();
    t.integer('uid').notNullable().unique().defaultTo(knex.raw(`nextval('jmp_uid_seq')`));
    t.string('display_name', 128).notNullable().defaultTo('');
    t.string('email', 254);
    t.integer('leader_id').references('users.id').onDelete('SET NULL');
    t.integer('department_id').references('departments.id').onDelete('SET NULL');
    t.string('status', 16).notNullable().defaultTo('active');
    t.text('password_hash');
    t.text('totp_secret_enc');
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.boolean('is_auditor').notNullable().defaultTo(false);
    t.string('shell', 128).notNullable().defaultTo('/bin/bash');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    `ALTER TABLE users ADD CONSTRAINT users_username_format CHECK (username ~ '^[a-z_][a-z0-9_-]{0,31}$')`,
  );
  await knex.raw(`ALTER TABLE users ADD CONSTRAINT users_status CHECK (status IN ('active','disabled'))`);
  await knex.raw(`ALTER TABLE departments ADD COLUMN leader_id integer REFERENCES users(id) ON DELETE SET NULL`);
  await knex.raw(`CREATE INDEX users_department ON users(department_id)`);

  await knex.schema.createTable('user_ssh_keys', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('public_key').notNullable();
    t.string('fingerprint', 64).notNullable();
    t.string('comment', 256).notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['user_id', 'fingerprint']);
  });

  await knex.schema.createTable('projects', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable().unique();
    t.text('description').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('services', (t) => {
    t.increments('id');
    t.integer('project_id').notNullable().references('projects.id').onDelete('RESTRICT');
    t.string('name', 128).notNullable();
    t.text('description').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['project_id', 'name']);
  });

  await knex.schema.createTable('hosts', (t) => {
    t.increments('id');
    t.string('hostname', 253).notNullable().unique();
    t.jsonb('addresses').notNullable().defaultTo('[]');
    t.string('state', 16).notNullable().defaultTo('online');
    t.string('kind', 16).notNullable().defaultTo('linux');
    t.integer('service_id').references('services.id').onDelete('RESTRICT');
    t.jsonb('ssh_host_keys').notNullable().defaultTo('[]');
    t.text('agent_public_key');
    t.timestamp('enrolled_at', { useTz: true });
    t.timestamp('last_seen_at', { useTz: true });
    t.jsonb('agent_status').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE hosts ADD CONSTRAINT hosts_state CHECK (state IN ('online','offline'))`);
  await knex.raw(`ALTER TABLE hosts ADD CONSTRAINT hosts_kind CHECK (kind IN ('linux','windows','netdev'))`);
  await knex.raw(`CREATE INDEX hosts_service ON hosts(service_id)`);

  await knex.schema.createTable('roles', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('scope_type', 16).notNullable();
    t.integer('scope_id').notNullable();
    t.string('role', 16).notNullable();
    t.boolean('ops_lead').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['user_id', 'scope_type', 'scope_id', 'role']);
  });
  await knex.raw(`ALTER TABLE roles ADD CONSTRAINT roles_scope CHECK (scope_type IN ('project','service'))`);
  await knex.raw(`ALTER TABLE roles ADD CONSTRAINT roles_role CHECK (role IN ('owner','ops'))`);
  await knex.raw(`ALTER TABLE roles ADD CONSTRAINT roles_lead CHECK (NOT ops_lead OR role = 'ops')`);
  await knex.raw(`CREATE INDEX roles_scope_idx ON roles(scope_type, scope_id)`);

  await knex.schema.createTable('access_requests', (t) => {
    t.increments('id');
    t.integer('requester_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('subject_type', 16).notNullable();
    t.integer('subject_id').notNullable();
    t.string('scope_type', 16).notNullable();
    t.integer('scope_id').notNullable();
    t.string('right', 8).notNullable();
    t.integer('duration_seconds').notNullable();
    t.text('reason').notNullable().defaultTo('');
    t.string('status', 16).notNullable().defaultTo('pending');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('decided_at', { useTz: true });
    t.integer('decided_by').references('users.id').onDelete('SET NULL');
    t.text('decision_note');
    t.integer('grant_id');
  });
  await knex.raw(
    `ALTER TABLE access_requests ADD CONSTRAINT requests_status CHECK (status IN ('pending','approved','rejected','cancelled','expired'))`,
  );
  await knex.raw(`CREATE INDEX requests_pending ON access_requests(status, scope_type, scope_id)`);

  await knex.schema.createTable('request_approvals', (t) => {
    t.increments('id');
    t.integer('request_id').notNullable().references('access_requests.id').onDelete('CASCADE');
    t.integer('approver_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('decision', 8).notNullable();
    t.text('note').notNullable().defaultTo('');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('request_policies', (t) => {
    t.increments('id');
    t.string('scope_type', 16).notNullable();
    t.integer('scope_id').notNullable();
    t.string('right', 8).notNullable();
    t.integer('max_seconds').notNullable();
    /** null: anyone may ask; else only members of these departments (and their sub-departments). */
    t.jsonb('allowed_department_ids');
    t.boolean('allow_department_subjects').notNullable().defaultTo(true);
    t.unique(['scope_type', 'scope_id', 'right']);
  });

  await knex.schema.createTable('grants', (t) => {
    t.increments('id');
    t.string('subject_type', 16).notNullable();
    t.integer('subject_id').notNullable();
    t.string('scope_type', 16).notNullable();
    t.integer('scope_id').notNullable();
    t.string('right', 8).notNullable();
    t.timestamp('valid_from', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('valid_until', { useTz: true });
    t.string('origin', 16).notNullable().defaultTo('admin');
    t.integer('request_id').references('access_requests.id').onDelete('SET NULL');
    t.integer('created_by').references('users.id').onDelete('SET NULL');
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE grants ADD CONSTRAINT grants_subject CHECK (subject_type IN ('user','department'))`);
  await knex.raw(`ALTER TABLE grants ADD CONSTRAINT grants_scope CHECK (scope_type IN ('host','service','project'))`);
  await knex.raw(`ALTER TABLE grants ADD CONSTRAINT grants_right CHECK ("right" IN ('login','root'))`);
  await knex.raw(
    `ALTER TABLE grants ADD CONSTRAINT grants_period CHECK (valid_until IS NULL OR valid_until > valid_from)`,
  );
  await knex.raw(`CREATE INDEX grants_subject_idx ON grants(subject_type, subject_id) WHERE revoked_at IS NULL`);
  // The decision hot path probes exact (subject, scope) pairs.
  await knex.raw(
    `CREATE INDEX grants_lookup_idx ON grants(subject_type, subject_id, scope_type, scope_id) WHERE revoked_at IS NULL`,
  );
  await knex.raw(`CREATE INDEX grants_scope_idx ON grants(scope_type, scope_id) WHERE revoked_at IS NULL`);

  await knex.schema.createTable('command_rules', (t) => {
    t.increments('id');
    t.string('name', 128).notNullable();
    t.text('pattern').notNullable();
    t.string('action', 8).notNullable().defaultTo('block');
    t.string('severity', 16).notNullable().defaultTo('high');
    t.string('list', 8).notNullable().defaultTo('deny');
    t.string('scope_type', 16).notNullable().defaultTo('global');
    t.integer('scope_id');
    t.boolean('enabled').notNullable().defaultTo(true);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(`ALTER TABLE command_rules ADD CONSTRAINT rules_action CHECK (action IN ('alert','block'))`);
  await knex.raw(
    `ALTER TABLE command_rules ADD CONSTRAINT rules_scope CHECK (scope_type IN ('global','project','service') AND (scope_type = 'global') = (scope_id IS NULL))`,
  );

  await knex.schema.createTable('sessions', (t) => {
    t.uuid('id').primary();
    t.integer('user_id').references('users.id').onDelete('SET NULL');
    t.integer('host_id').references('hosts.id').onDelete('SET NULL');
    t.string('protocol', 8).notNullable().defaultTo('ssh');
    t.string('source_address', 64);
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('ended_at', { useTz: true });
    t.bigInteger('bytes_in').notNullable().defaultTo(0);
    t.bigInteger('bytes_out').notNullable().defaultTo(0);
    t.string('end_reason', 64);
    t.text('recording_uri');
  });
  await knex.schema.createTable('commands', (t) => {
    t.bigIncrements('id');
    t.uuid('session_id').notNullable().references('sessions.id').onDelete('CASCADE');
    t.integer('user_id');
    t.integer('host_id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('line').notNullable();
    t.string('verdict', 16).notNullable();
    t.integer('rule_id');
  });
  await knex.raw(`CREATE INDEX commands_session ON commands(session_id, at)`);

  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.string('actor', 128).notNullable();
    t.string('action', 64).notNullable();
    t.string('target', 256).notNullable().defaultTo('');
    t.jsonb('data').notNullable().defaultTo('{}');
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable().unique();
  });
  await knex.raw(`CREATE INDEX audit_action_at ON audit_events(action, at)`);

  await knex.schema.createTable('enrolment_tokens', (t) => {
    t.increments('id');
    t.string('token_hash', 64).notNullable().unique();
    t.string('description', 256).notNullable().defaultTo('');
    t.integer('service_id').references('services.id').onDelete('SET NULL');
    t.string('host_state', 16).notNullable().defaultTo('online');
    t.integer('max_uses').notNullable().defaultTo(1);
    t.integer('uses').notNullable().defaultTo(0);
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.integer('created_by').references('users.id').onDelete('SET NULL');
    t.timestamp('revoked_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // Every write that can change an access decision bumps this version in the
  // same transaction; decision caches check it before use (access/facts-cache.ts).
  await knex.raw(`CREATE TABLE policy_version (id int PRIMARY KEY CHECK (id = 1), v bigint NOT NULL)`);
  await knex.raw(`INSERT INTO policy_version VALUES (1, 0)`);
  await knex.raw(`CREATE FUNCTION jmp_bump_policy_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN UPDATE policy_version SET v = v + 1 WHERE id = 1; RETURN NULL; END $$`);
  for (const table of ['users', 'departments', 'projects', 'services', 'roles', 'grants']) {
    await knex.raw(
      `CREATE TRIGGER ${table}_policy_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`,
    );
  }
  // Hosts: only what decide() reads; last_seen_at and agent status change all the time.
  await knex.raw(
    `CREATE TRIGGER hosts_policy_version AFTER INSERT OR DELETE OR TRUNCATE ON hosts FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`,
  );
  await knex.raw(
    `CREATE TRIGGER hosts_policy_version_upd AFTER UPDATE OF hostname, state, service_id ON hosts FOR EACH STATEMENT EXECUTE FUNCTION jmp_bump_policy_version()`,
  );

  await knex.schema.createTable('ticket_keys', (t) => {
    t.string('kid', 64).primary();
    t.text('public_pem').notNullable();
    t.text('private_enc').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retired_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS policy_version');
  for (const t of [
    'ticket_keys',
    'enrolment_tokens',
    'audit_events',
    'commands',
    'sessions',
    'command_rules',
    'grants',
    'request_policies',
    'request_approvals',
    'access_requests',
    'roles',
    'hosts',
    'services',
    'projects',
    'user_ssh_keys',
  ]) {
    await knex.schema.dropTableIfExists(t);
  }
  await knex.raw('ALTER TABLE departments DROP COLUMN IF EXISTS leader_id');
  await knex.schema.dropTableIfExists('users');
  await knex.schema.dropTableIfExists('departments');
  await knex.raw('DROP SEQUENCE IF EXISTS jmp_uid_seq');
  await knex.raw('DROP FUNCTION IF EXISTS jmp_bump_policy_version() CASCADE');
}
