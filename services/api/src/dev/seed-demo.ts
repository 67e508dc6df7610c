// A small demo organisation for `make dev`: departments, people with
// passwords (printed once), projects, services, hosts online and offline.
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/knex.js';
import { hashPassword } from '../crypto/passwords.js';
import { sha256hex } from '../crypto/secrets.js';

export interface DemoCredentials {
  users: Array<{ username: string; password: string; role: string }>;
  enrolmentToken: string;
}

export async function seedDemo(db: Db, hostAddresses: Record<string, string[]> = {}): Promise<DemoCredentials | null> {
  if ((await db('users').count<{ n: string }[]>('* as n'))[0]!.n !== '0') return null;
  return db.transaction(async (trx) => {
    const [eng] = await trx('departments').insert({ name: 'Engineering' }).returning('id');
    const [platform] = await trx('departments').insert({ name: 'Platform', parent_id: eng.id }).returning('id');
    const [web] = await trx('departments').insert({ name: 'Web', parent_id: eng.id }).returning('id');
    const [finance] = await trx('departments').insert({ name: 'Finance' }).returning('id');

    const people = [
      {
        username: 'ada',
        display_name: 'Ada Administrator',
        department_id: platform.id,
        is_admin: true,
        role: 'administrator',
      },
      {
        username: 'carol',
        display_name: 'Carol Lead',
        department_id: platform.id,
        role: 'ops lead of shop/web, leader of Platform',
      },
      { username: 'alice', display_name: 'Alice Ops', department_id: platform.id, role: 'ops of shop/web' },
      { username: 'bob', display_name: 'Bob Developer', department_id: web.id, role: 'owner of shop/web' },
      {
        username: 'dave',
        display_name: 'Dave Finance',
        department_id: finance.id,
        role: 'no rights (requests access)',
      },
      { username: 'erin', display_name: 'Erin Auditor', department_id: platform.id, is_auditor: true, role: 'auditor' },
    ];
    const creds: DemoCredentials['users'] = [];
    const ids: Record<string, number> = {};
    for (const p of people) {
      const password = randomBytes(9).toString('base64url');
      const { role, ...row } = p;
      const [u] = await trx('users')
        .insert({ ...row, email: `${p.username}@example.test`, password_hash: await hashPassword(password) })
        .returning('id');
      ids[p.username] = u.id;
      creds.push({ username: p.username, password, role });
    }
    await trx('users').whereIn('username', ['alice', 'bob']).update({ leader_id: ids.carol });
    await trx('departments').where({ id: platform.id }).update({ leader_id: ids.carol });

    const [shop] = await trx('projects').insert({ name: 'shop', description: 'the web shop' }).returning('id');
    const [data] = await trx('projects').insert({ name: 'data', description: 'analytics' }).returning('id');
    const [svcWeb] = await trx('services').insert({ project_id: shop.id, name: 'web' }).returning('id');
    const [svcDb] = await trx('services').insert({ project_id: shop.id, name: 'db' }).returning('id');
    const [svcEtl] = await trx('services').insert({ project_id: data.id, name: 'etl' }).returning('id');
    const hosts = [
      { hostname: 'h1', service_id: svcWeb.id, state: 'online' },
      { hostname: 'h2', service_id: svcWeb.id, state: 'offline' },
      { hostname: 'db-01', service_id: svcDb.id, state: 'online' },
      { hostname: 'etl-01', service_id: svcEtl.id, state: 'offline' },
    ];
    for (const [i, h] of hosts.entries()) {
      await trx('hosts').insert({
        ...h,
        addresses: JSON.stringify(hostAddresses[h.hostname] ?? [`10.231.0.${11 + i}`]),
      });
    }
    await trx('roles').insert([
      { user_id: ids.carol, scope_type: 'service', scope_id: svcWeb.id, role: 'ops', ops_lead: true },
      { user_id: ids.alice, scope_type: 'service', scope_id: svcWeb.id, role: 'ops' },
      { user_id: ids.bob, scope_type: 'service', scope_id: svcWeb.id, role: 'owner' },
      { user_id: ids.carol, scope_type: 'project', scope_id: data.id, role: 'ops', ops_lead: true },
    ]);
    await trx('command_rules').insert([
      {
        name: 'recursive delete of /',
        pattern: String.raw`\brm\s+(-[a-zA-Z]*[rR][a-zA-Z]*\s+)+(-\S+\s+)*/(\s|$)`,
        action: 'block',
        severity: 'critical',
      },
      { name: 'recursive delete', pattern: String.raw`\brm\s+-[a-zA-Z]*[rR]`, action: 'alert', severity: 'medium' },
      {
        name: 'shutdown',
        pattern: String.raw`^\s*(sudo\s+)?(shutdown|halt|poweroff|reboot)\b`,
        action: 'block',
        severity: 'high',
      },
    ]);
    const enrolmentToken = `jmpe_${randomBytes(32).toString('base64url')}`;
    const [tok] = await trx('enrolment_tokens')
      .insert({
        token_hash: sha256hex(enrolmentToken),
        description: 'demo hosts',
        service_id: svcWeb.id,
        max_uses: 100,
        expires_at: new Date(Date.now() + 30 * 86400_000),
      })
      .returning('id');
    // Pre-registered hosts enrol only with a token bound to them: the web hosts take this one.
    await trx('hosts').where({ service_id: svcWeb.id }).update({ enrolment_token_id: tok.id });
    return { users: creds, enrolmentToken };
  });
}
