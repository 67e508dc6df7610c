// Network devices: the admin resources (devices, accounts, vendor profiles),
// and what jmp-ssh asks (its device key, the sealed secrets for a rotation, a
// device session for a person). Secrets are sealed on arrival with the public
// device key and never leave jmp-api except as ciphertext to jmp-ssh.
import { JmpError, contract as c } from '@jmp/contract';
import { sealDeviceSecret, sealedKeyVersion } from '@jmp/contract/device-secrets';
import type { z } from 'zod';
import type { RouteModule } from '../http/app.js';
import { actorOf } from '../http/auth.js';
import { appendAudit } from '../audit/audit.js';
import { audit, badField, iso, isoNN, readers, write } from '../admin/crud.js';
import { compileRule } from '../admin/rules.js';
import type { Ctx } from '../context.js';
import type { Tx } from '../admin/repository/common.js';
import { decideDevice } from './decide.js';
import * as repo from './repository.js';

const HINTS = {
  devices_name_unique: ['body.name', 'a device with this name already exists'],
  device_profiles_name_unique: ['body.name', 'a device profile with this name already exists'],
  device_accounts_device_id_name_unique: ['body.name', 'this device already has an account with this name'],
  devices_protocol: ['body.protocol', 'must be ssh or telnet'],
  devices_state: ['body.state', 'must be online or offline'],
  devices_port: ['body.port', 'must be 1-65535'],
} as Record<string, [string, string]>;

const DEFAULT_PORT = { ssh: 22, telnet: 23 } as const;

type Spec = z.infer<typeof c.DeviceProfileSpec>;

/** Every pattern of a profile compiles with RE2 as the proxies compile it. */
function checkSpec(spec: Spec): void {
  compileRule(spec.prompt, 'body.spec.prompt');
  compileRule(spec.failure, 'body.spec.failure');
  if (spec.paging) compileRule(spec.paging, 'body.spec.paging');
  spec.login.forEach((s, i) => compileRule(s.expect, `body.spec.login.${i}.expect`));
  spec.rules.forEach((r, i) => compileRule(r.pattern, `body.spec.rules.${i}.pattern`));
}

const toProfile = (r: repo.ProfileRow): z.infer<typeof c.DeviceProfile> => ({
  id: r.id,
  name: r.name,
  spec: c.DeviceProfileSpec.parse(r.spec),
  createdAt: isoNN(r.created_at),
});

const toAccount = (a: repo.AccountRow): z.infer<typeof c.DeviceAccountView> => ({
  id: a.id,
  name: a.name,
  secretSet: a.key_version != null,
  keyVersion: a.key_version,
  secretSetAt: iso(a.secret_set_at),
});

function toDevice(d: repo.DeviceRow, accounts: repo.AccountRow[]): z.infer<typeof c.Device> {
  return {
    id: d.id,
    name: d.name,
    address: d.address,
    port: d.port,
    protocol: d.protocol,
    state: d.state,
    profileId: d.profile_id,
    profile: d.profile_name,
    serviceId: d.service_id,
    hostKey: d.host_key,
    accounts: accounts.filter((a) => a.device_id === d.id).map(toAccount),
    createdAt: isoNN(d.created_at),
  };
}

async function loadDevice(
  db: repo.DeviceFields extends never ? never : Parameters<typeof repo.getDevice>[0],
  id: number,
) {
  const d = await repo.getDevice(db, id);
  if (!d) throw new JmpError('not_found', `there is no device with id ${id}`);
  return toDevice(d, await repo.accountsOf(db, [id]));
}

/** Seals with the current device key; 409 when jmp-ssh has not registered one yet. */
async function seal(db: Tx, deviceId: number, account: string, secret: string) {
  const key = await repo.currentKey(db);
  if (!key)
    throw new JmpError(
      'conflict',
      'no device key is registered yet: start jmp-ssh once (it registers its device key), then set the secret',
    );
  return {
    sealed: sealDeviceSecret(key.public_key, secret, { deviceId, account, keyVersion: key.version }),
    version: key.version,
  };
}

function adminRoutes(api: Parameters<RouteModule>[0], ctx: Ctx, auth: Parameters<RouteModule>[2]): void {
  const tags = ['admin: devices'];
  const admin = auth.admin();

  api.route(
    'get',
    '/v1/device-profiles',
    {
      summary: 'List device vendor profiles',
      tags,
      auth: readers(auth),
      security: 'admin',
      response: c.DeviceProfileList,
    },
    async () => ({ items: (await repo.listProfiles(ctx.db)).map(toProfile) }),
  );
  api.route(
    'post',
    '/v1/device-profiles',
    {
      summary: 'Add a device vendor profile (prompt, paging, login sequence, SSH algorithms, command rules)',
      tags,
      auth: admin,
      security: 'admin',
      body: c.DeviceProfileCreate,
      response: c.DeviceProfile,
      status: 201,
    },
    async ({ body, principal }) => {
      checkSpec(body.spec);
      return write(ctx, HINTS, async (trx) => {
        const row = await repo.insertProfile(trx, body.name, body.spec);
        await audit(trx, principal, 'device_profile.created', `device-profile:${row.name}`, { id: row.id });
        return toProfile(row);
      });
    },
  );
  api.route(
    'patch',
    '/v1/device-profiles/:id',
    {
      summary: 'Update a device vendor profile',
      tags,
      auth: admin,
      security: 'admin',
      params: c.IdParams,
      body: c.DeviceProfileUpdate,
      response: c.DeviceProfile,
    },
    async ({ params, body, principal }) => {
      if (body.spec) checkSpec(body.spec);
      return write(ctx, HINTS, async (trx) => {
        await repo.getProfile(trx, params.id);
        const row = await repo.updateProfile(trx, params.id, body);
        await audit(trx, principal, 'device_profile.updated', `device-profile:${row.name}`, { id: row.id, ...body });
        return toProfile(row);
      });
    },
  );

  api.route(
    'get',
    '/v1/devices',
    {
      summary: 'List network devices (filters: service, q on name or address)',
      tags,
      auth: readers(auth),
      security: 'admin',
      query: c.DeviceQuery,
      response: c.DeviceList,
    },
    async ({ query }) => {
      const page = await repo.listDevices(ctx.db, query);
      const accounts = await repo.accountsOf(
        ctx.db,
        page.items.map((d) => d.id),
      );
      return { ...page, items: page.items.map((d) => toDevice(d, accounts)) };
    },
  );
  api.route(
    'get',
    '/v1/devices/:id',
    {
      summary: 'Get a network device',
      tags,
      auth: readers(auth),
      security: 'admin',
      params: c.IdParams,
      response: c.Device,
    },
    async ({ params }) => loadDevice(ctx.db, params.id),
  );
  api.route(
    'post',
    '/v1/devices',
    {
      summary: 'Register a network device',
      tags,
      auth: admin,
      security: 'admin',
      body: c.DeviceCreate,
      response: c.Device,
      status: 201,
    },
    async ({ body, principal }) =>
      write(ctx, HINTS, async (trx) => {
        await repo.getProfile(trx, body.profileId).catch(() => {
          throw badField('body.profileId', `there is no device profile with id ${body.profileId}`);
        });
        if (body.serviceId != null && !(await repo.serviceExists(trx, body.serviceId)))
          throw badField('body.serviceId', `there is no service with id ${body.serviceId}`);
        const id = await repo.insertDevice(trx, { ...body, port: body.port ?? DEFAULT_PORT[body.protocol] });
        await audit(trx, principal, 'device.created', `device:${body.name}`, { id, ...body });
        return loadDevice(trx, id);
      }),
  );
  api.route(
    'patch',
    '/v1/devices/:id',
    {
      summary: 'Update a network device (hostKey: null forgets the pinned host key)',
      tags,
      auth: admin,
      security: 'admin',
      params: c.IdParams,
      body: c.DeviceUpdate,
      response: c.Device,
    },
    async ({ params, body, principal }) =>
      write(ctx, HINTS, async (trx) => {
        const cur = await loadDevice(trx, params.id);
        if (body.profileId !== undefined)
          await repo.getProfile(trx, body.profileId).catch(() => {
            throw badField('body.profileId', `there is no device profile with id ${body.profileId}`);
          });
        if (body.serviceId != null && !(await repo.serviceExists(trx, body.serviceId)))
          throw badField('body.serviceId', `there is no service with id ${body.serviceId}`);
        await repo.updateDevice(trx, params.id, body);
        await audit(trx, principal, 'device.updated', `device:${cur.name}`, { id: cur.id, ...body });
        return loadDevice(trx, params.id);
      }),
  );
  api.route(
    'delete',
    '/v1/devices/:id',
    {
      summary: 'Delete a network device and its accounts (sessions keep their recordings)',
      tags,
      auth: admin,
      security: 'admin',
      params: c.IdParams,
    },
    async ({ params, principal }) => {
      await write(ctx, HINTS, async (trx) => {
        const cur = await loadDevice(trx, params.id);
        await repo.deleteDevice(trx, params.id);
        await audit(trx, principal, 'device.deleted', `device:${cur.name}`, { id: cur.id });
      });
    },
  );

  api.route(
    'post',
    '/v1/devices/:id/accounts',
    {
      summary: 'Add a device account, optionally with its secret (sealed on arrival, never readable)',
      tags,
      auth: admin,
      security: 'admin',
      params: c.IdParams,
      body: c.DeviceAccountCreate,
      response: c.Device,
      status: 201,
    },
    async ({ params, body, principal }) =>
      write(ctx, HINTS, async (trx) => {
        const dev = await loadDevice(trx, params.id);
        const acc = await repo.insertAccount(trx, params.id, body.name);
        if (body.secret !== undefined) {
          const s = await seal(trx, params.id, body.name, body.secret);
          await repo.setSealed(trx, acc.id, s.sealed, s.version);
        }
        await audit(trx, principal, 'device.account_created', `device:${dev.name}/${body.name}`, {
          id: acc.id,
          secretSet: body.secret !== undefined,
        });
        return loadDevice(trx, params.id);
      }),
  );
  api.route(
    'delete',
    '/v1/devices/:id/accounts/:accountId',
    {
      summary: 'Remove a device account and its sealed secret',
      tags,
      auth: admin,
      security: 'admin',
      params: c.DeviceAccountParams,
    },
    async ({ params, principal }) => {
      await write(ctx, HINTS, async (trx) => {
        const dev = await loadDevice(trx, params.id);
        const acc = await repo.getAccount(trx, params.id, params.accountId);
        if (!acc) throw new JmpError('not_found', `device ${dev.name} has no account with id ${params.accountId}`);
        await repo.deleteAccount(trx, acc.id);
        await audit(trx, principal, 'device.account_deleted', `device:${dev.name}/${acc.name}`, { id: acc.id });
      });
    },
  );
  api.route(
    'put',
    '/v1/devices/:id/accounts/:accountId/secret',
    {
      summary: "Set or rotate a device account's secret (sealed to jmp-ssh's device key; it cannot be read back)",
      tags,
      auth: admin,
      security: 'admin',
      params: c.DeviceAccountParams,
      body: c.DeviceSecretSet,
      response: c.DeviceAccountView,
    },
    async ({ params, body, principal }) =>
      write(ctx, HINTS, async (trx) => {
        const dev = await loadDevice(trx, params.id);
        const acc = await repo.getAccount(trx, params.id, params.accountId);
        if (!acc) throw new JmpError('not_found', `device ${dev.name} has no account with id ${params.accountId}`);
        const s = await seal(trx, params.id, acc.name, body.secret);
        await repo.setSealed(trx, acc.id, s.sealed, s.version);
        await audit(
          trx,
          principal,
          acc.key_version == null ? 'device.secret_set' : 'device.secret_rotated',
          `device:${dev.name}/${acc.name}`,
          {
            id: acc.id,
            keyVersion: s.version,
          },
        );
        return toAccount((await repo.getAccount(trx, params.id, params.accountId))!);
      }),
  );
}

function sshRoutes(api: Parameters<RouteModule>[0], ctx: Ctx, auth: Parameters<RouteModule>[2]): void {
  const tags = ['devices'];
  const ssh = auth.service('ssh');

  api.route(
    'post',
    '/v1/device-keys',
    {
      summary:
        'jmp-ssh registers its device-secrets public key (the first becomes version 1; a different one is refused)',
      tags,
      auth: ssh,
      security: 'service',
      body: c.DeviceKeyRegister,
      response: c.DeviceKeyState,
    },
    async ({ body, principal }) =>
      repo.withKeysLocked(ctx.db, async (trx, cur) => {
        if (cur?.public_key === body.publicKey)
          return { version: cur.version, publicKey: cur.public_key, created: false };
        if (cur)
          throw new JmpError(
            'conflict',
            `this device key is not the registered key (version ${cur.version}): every jmp-ssh must share the same ` +
              'JMP_DEVICE_KEY file; change keys with `jmp-ssh device-key rotate`',
          );
        await repo.insertKey(trx, 1, body.publicKey);
        await appendAudit(trx, {
          actor: actorOf(principal),
          action: 'device_key.registered',
          target: 'device-key:1',
          data: { publicKey: body.publicKey },
        });
        return { version: 1, publicKey: body.publicKey, created: true };
      }),
  );

  api.route(
    'get',
    '/v1/device-keys/sealed',
    {
      summary: 'Every sealed device secret, for a key rotation by jmp-ssh (ciphertext only)',
      tags,
      auth: ssh,
      security: 'service',
      response: c.SealedSecretList,
    },
    async () => {
      const key = await repo.currentKey(ctx.db);
      if (!key) throw new JmpError('conflict', 'no device key is registered');
      const rows = await repo.allSealed(ctx.db);
      return {
        version: key.version,
        items: rows.map((r) => ({
          accountId: r.id,
          deviceId: r.device_id,
          account: r.name,
          keyVersion: r.key_version,
          sealed: r.sealed_secret.toString('base64'),
        })),
      };
    },
  );

  api.route(
    'post',
    '/v1/device-keys/rotate',
    {
      summary: 'Replace every sealed secret by its re-encryption to a new device key, in one transaction (audited)',
      tags,
      auth: ssh,
      security: 'service',
      body: c.DeviceKeyRotate,
      response: c.DeviceKeyRotated,
    },
    async ({ body, principal }) =>
      repo.withKeysLocked(ctx.db, async (trx, cur) => {
        if (!cur || cur.version !== body.fromVersion)
          throw new JmpError(
            'conflict',
            `the current device key is version ${cur?.version ?? 'none'}, not ${body.fromVersion}`,
          );
        const next = cur.version + 1;
        const rows = await repo.allSealed(trx, true);
        const items = new Map(body.items.map((i) => [i.accountId, i]));
        if (items.size !== rows.length || items.size !== body.items.length)
          throw new JmpError(
            'conflict',
            `${rows.length} sealed secrets exist, ${body.items.length} were sent: read them again`,
          );
        for (const r of rows) {
          const it = items.get(r.id);
          if (!it || it.previous !== r.sealed_secret.toString('base64'))
            throw new JmpError(
              'conflict',
              `the secret of account #${r.id} changed during the rotation: read them again`,
            );
          const sealed = Buffer.from(it.sealed, 'base64');
          let version: number;
          try {
            version = sealedKeyVersion(sealed);
          } catch {
            throw badField(`body.items (account #${r.id})`, 'is not a sealed device secret');
          }
          if (version !== next)
            throw badField(`body.items (account #${r.id})`, `must be sealed for key version ${next}`);
        }
        await repo.insertKey(trx, next, body.publicKey);
        for (const r of rows) await repo.replaceSealed(trx, r.id, Buffer.from(items.get(r.id)!.sealed, 'base64'), next);
        await appendAudit(trx, {
          actor: actorOf(principal),
          action: 'device_key.rotated',
          target: `device-key:${next}`,
          data: { fromVersion: cur.version, version: next, reencrypted: rows.length, publicKey: body.publicKey },
        });
        return { version: next, reencrypted: rows.length };
      }),
  );

  api.route(
    'get',
    '/v1/my-devices',
    {
      summary: 'The network devices a person may open (the jump menu)',
      tags,
      auth: ssh,
      security: 'service',
      query: c.MyDevicesQuery,
      response: c.MyDevices,
    },
    async ({ query }) => {
      const f = await repo.personFacts(ctx.db, query.user);
      if (!f.user) return { items: [] };
      const now = ctx.now();
      const items = (await repo.allDeviceTargets(ctx.db))
        .filter((d) => decideDevice(f.user!, d, f.roles, f.grants, now).allow)
        .map((d) => ({ name: d.name, protocol: d.row.protocol, service: d.serviceName ?? null, state: d.state }));
      return { items };
    },
  );

  api.route(
    'post',
    '/v1/device-sessions',
    {
      summary:
        'A person opens a device: checks the device right, starts the session, returns the sealed account secret',
      tags,
      auth: ssh,
      security: 'service',
      body: c.DeviceSessionOpen,
      response: c.DeviceSessionGrant,
      status: 201,
    },
    async ({ body, principal }) => {
      const target = `${body.user}@${body.device}`;
      const deny = async (
        message: string,
        code: 'forbidden' | 'not_found' | 'conflict' = 'forbidden',
      ): Promise<never> => {
        await appendAudit(ctx.db, {
          actor: actorOf(principal),
          action: 'device.denied',
          target,
          data: { reason: message },
        });
        throw new JmpError(code, message);
      };
      const [f, d] = await Promise.all([repo.personFacts(ctx.db, body.user), repo.deviceTarget(ctx.db, body.device)]);
      if (!f.user) return deny(`unknown user ${body.user}`);
      if (!d) return deny(`no device named ${body.device}`, 'not_found');
      const decision = decideDevice(f.user, d, f.roles, f.grants, ctx.now());
      if (!decision.allow) return deny(decision.reason);
      const acc = await repo.sealedFor(ctx.db, d.id, body.account);
      if (!acc)
        return deny(
          body.account
            ? `device ${d.name} has no account ${body.account} with a secret set`
            : `device ${d.name} has no account with a secret set; an administrator must add one`,
          'conflict',
        );
      await repo.insertDeviceSession(ctx.db, {
        id: body.id,
        userId: f.user.id,
        deviceId: d.id,
        protocol: d.row.protocol,
        sourceAddress: body.sourceAddress ?? null,
      });
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'device.session_started',
        target,
        data: { session: body.id, account: acc.name, reason: decision.reason, source: body.sourceAddress ?? null },
      });
      return {
        session: body.id,
        device: {
          id: d.id,
          name: d.name,
          address: d.row.address,
          port: d.row.port,
          protocol: d.row.protocol,
          hostKey: d.row.host_key,
        },
        profile: { name: d.row.profile_name, spec: c.DeviceProfileSpec.parse(d.profileSpec) },
        account: {
          id: acc.id,
          name: acc.name,
          keyVersion: acc.key_version,
          sealed: acc.sealed_secret.toString('base64'),
        },
        mayPinHostKey: f.user.isAdmin && d.row.host_key == null,
        reason: decision.reason,
      };
    },
  );

  api.route(
    'post',
    '/v1/device-sessions/host-key',
    {
      summary: "Pin a device's SSH host key on first use (the session's person must be an administrator)",
      tags,
      auth: ssh,
      security: 'service',
      body: c.DeviceHostKeyPin,
    },
    async ({ body, principal }) => {
      const s = await repo.sessionOf(ctx.db, body.session);
      if (!s || s.device_id == null) throw new JmpError('not_found', `no device session ${body.session}`);
      if (!s.is_admin) throw new JmpError('forbidden', 'only an administrator pins a device host key on first use');
      const key = body.hostKey.split(' ').slice(0, 2).join(' ');
      if (!(await repo.pinHostKey(ctx.db, s.device_id, key)))
        throw new JmpError('conflict', 'this device already has a pinned host key');
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: 'device.host_key_pinned',
        target: `device:#${s.device_id}`,
        data: { session: body.session, by: s.username, hostKey: key },
      });
    },
  );

  api.route(
    'post',
    '/v1/device-sessions/events',
    {
      summary: 'jmp-ssh reports a device login failure, host key mismatch, timeout or unreachable device (audited)',
      tags,
      auth: ssh,
      security: 'service',
      body: c.DeviceEvent,
      status: 201,
    },
    async ({ body, principal }) => {
      const s = await repo.sessionOf(ctx.db, body.session);
      if (!s || s.device_id == null) throw new JmpError('not_found', `no device session ${body.session}`);
      await appendAudit(ctx.db, {
        actor: actorOf(principal),
        action: `device.${body.event}`,
        target: `${s.username}@device:#${s.device_id}`,
        data: { session: body.session, detail: body.detail },
      });
    },
  );
}

export const deviceRoutes: RouteModule = (api, ctx, auth) => {
  adminRoutes(api, ctx, auth);
  sshRoutes(api, ctx, auth);
};
