// Network devices (switches, routers, firewalls reached over SSH or telnet):
// their vendor profiles, the devices, and the accounts jmp-ssh logs in with.
// A secret goes in (set or rotated) and never comes back: the API answers only
// whether and when one was set. Auditors read everything, change nothing.
import type { z } from 'zod';
import {
  DeviceAccountCreate,
  DeviceCreate,
  DeviceProfileCreate,
  DeviceProfileUpdate,
  DeviceSecretSet,
  DeviceUpdate,
  type Device,
  type DeviceProfile,
} from '@jmp/contract/schemas/devices';
import { environmentLabel } from '@jmp/contract/schemas/access';
import { api, get, patch, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading, time } from './common.js';
import { actionButton, apiForm, inlineForm, savingSelect, type FieldSpec } from './forms.js';
import { ALL, loadServices, serviceOptions } from './org-names.js';
import { parseSpec, specSummary } from './device-profile.js';

type Dev = z.infer<typeof Device>;
type Profile = z.infer<typeof DeviceProfile>;
type Account = Dev['accounts'][number];

const ENVIRONMENTS: Array<[string, string]> = [
  ['online', environmentLabel('online')],
  ['offline', environmentLabel('offline')],
];
const PROTOCOLS: Array<[string, string]> = [
  ['ssh', 'SSH'],
  ['telnet', 'telnet'],
];

/** The JSON text of a profile field → the body's spec (a sentence when it is not JSON). */
function withSpec({ spec, ...rest }: Record<string, unknown>): Record<string, unknown> {
  if (spec === undefined) return rest;
  const r = parseSpec(spec);
  if ('error' in r) throw new Error(r.error);
  return { ...rest, spec: r.spec };
}

export const devicesPage: Page = {
  title: 'Network devices',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const { names: services } = await loadServices();
    /** Devices whose accounts are shown stay open across redraws. */
    const opened = new Set<number>();
    const draw = async () => {
      const [profiles, devices] = await Promise.all([
        get<{ items: Profile[] }>('/v1/device-profiles'),
        get<{ items: Dev[]; total: number }>('/v1/devices', ALL),
      ]);
      if (signal.aborted) return;
      const ctx: Ctx = { admin, services, profiles: profiles.items, opened, draw };
      main.replaceChildren(
        heading('Network devices'),
        devicesSection(ctx, devices.items),
        ...devices.items.map((d) => accountsOf(ctx, d)),
        admin ? deviceForm(ctx) : '',
        profilesSection(ctx),
      );
    };
    await draw();
  },
};

interface Ctx {
  admin: boolean;
  services: Map<number, string>;
  profiles: Profile[];
  opened: Set<number>;
  draw: () => Promise<void>;
}

/** A select on a device row saved with PATCH /v1/devices/:id (checked with DeviceUpdate first). */
function deviceSelect(
  ctx: Ctx,
  d: Dev,
  key: 'profileId' | 'serviceId' | 'state',
  label: string,
  options: Array<[string, string]>,
  value: string,
): HTMLSelectElement {
  return savingSelect({
    name: key,
    label,
    options,
    value,
    save: async (v) => {
      const raw = key === 'state' ? v : v ? Number(v) : null;
      const body = DeviceUpdate.safeParse({ [key]: raw });
      if (!body.success) throw new Error(`${label}: ${body.error.issues[0]!.message}`);
      await patch<Dev>(`/v1/devices/${d.id}`, body.data);
      return `${d.name} saved.`;
    },
    report: toast,
    reload: ctx.draw,
  });
}

function devicesSection(ctx: Ctx, devices: Dev[]): HTMLElement {
  const profileName = new Map(ctx.profiles.map((p) => [p.id, p.name]));
  const profileOptions = ctx.profiles.map((p): [string, string] => [String(p.id), p.name]);
  return h(
    'section',
    { 'aria-labelledby': 'devices-h' },
    h('h2', { id: 'devices-h' }, 'Devices'),
    h('p', { class: 'count' }, `${devices.length} devices`),
    table(
      'Devices',
      ['Device', 'Address', 'Profile', 'Service', 'Environment', 'Host key', 'Accounts', ''],
      devices.map((d) => [
        h('strong', {}, d.name),
        `${d.protocol} ${d.address}:${d.port}`,
        ctx.admin
          ? deviceSelect(ctx, d, 'profileId', `Profile of ${d.name}`, profileOptions, String(d.profileId))
          : (profileName.get(d.profileId) ?? d.profile),
        ctx.admin
          ? deviceSelect(
              ctx,
              d,
              'serviceId',
              `Service of ${d.name}`,
              serviceOptions(ctx.services, ['', '— none —']),
              String(d.serviceId ?? ''),
            )
          : d.serviceId
            ? (ctx.services.get(d.serviceId) ?? `#${d.serviceId}`)
            : '—',
        ctx.admin
          ? deviceSelect(ctx, d, 'state', `Environment of ${d.name}`, ENVIRONMENTS, d.state)
          : environmentLabel(d.state),
        d.hostKey
          ? h(
              'span',
              {},
              badge('pinned', 'ok'),
              ctx.admin
                ? actionButton(
                    'Forget',
                    `Forget the host key of ${d.name}`,
                    async () => {
                      await patch(`/v1/devices/${d.id}`, { hostKey: null });
                      toast(`${d.name}: the next administrator to open it pins its host key.`);
                      await ctx.draw();
                    },
                    toast,
                  )
                : null,
            )
          : badge('on first use', 'warn'),
        `${d.accounts.length} (${d.accounts.filter((a) => a.secretSet).length} with a secret)`,
        ctx.admin
          ? actionButton(
              'Delete',
              `Delete ${d.name}`,
              async () => {
                if (!confirm(`Delete ${d.name} and its accounts? Its recordings stay.`)) return;
                await api('DELETE', `/v1/devices/${d.id}`);
                toast(`${d.name} deleted.`);
                await ctx.draw();
              },
              toast,
              'danger',
            )
          : '',
      ]),
      { empty: 'No network device yet.' },
    ),
  );
}

/** One device's accounts (and, for administrators, its settings), in a disclosure. */
function accountsOf(ctx: Ctx, d: Dev): HTMLElement {
  const box = h(
    'details',
    { class: 'card device-accounts', open: ctx.opened.has(d.id), 'data-device': d.name },
    h('summary', {}, `Accounts of ${d.name}`),
  );
  box.addEventListener('toggle', () => (box.open ? ctx.opened.add(d.id) : ctx.opened.delete(d.id)));
  box.append(
    table(
      `Accounts of ${d.name}`,
      ['Account', 'Secret', 'Key version', ...(ctx.admin ? ['Set or rotate the secret', ''] : [])],
      d.accounts.map((a) => [
        h('strong', {}, a.name),
        a.secretSet ? `set ${time(a.secretSetAt)}` : badge('not set', 'warn'),
        a.keyVersion ?? '—',
        ...(ctx.admin ? [secretForm(ctx, d, a), removeAccount(ctx, d, a)] : []),
      ]),
      { empty: 'No account yet: jmp-ssh cannot log in to this device.' },
    ),
  );
  if (ctx.admin) box.append(h('div', { class: 'row forms' }, accountForm(ctx, d), editForm(ctx, d)));
  return box;
}

function secretForm(ctx: Ctx, d: Dev, a: Account): HTMLElement {
  return inlineForm({
    spec: { name: 'secret', label: 'Secret', type: 'password' },
    label: `New secret of ${a.name} on ${d.name}`,
    schema: DeviceSecretSet,
    submit: a.secretSet ? 'Rotate' : 'Set',
    submitLabel: `${a.secretSet ? 'Rotate' : 'Set'} the secret of ${a.name} on ${d.name}`,
    send: async (b) => {
      await api('PUT', `/v1/devices/${d.id}/accounts/${a.id}/secret`, b);
      await ctx.draw();
      return `Secret of ${a.name} on ${d.name} ${a.secretSet ? 'rotated' : 'set'}; it cannot be read back.`;
    },
    report: toast,
  });
}

function removeAccount(ctx: Ctx, d: Dev, a: Account): HTMLElement {
  return actionButton(
    'Remove',
    `Remove account ${a.name} of ${d.name}`,
    async () => {
      await api('DELETE', `/v1/devices/${d.id}/accounts/${a.id}`);
      toast(`Account ${a.name} of ${d.name} removed with its secret.`);
      await ctx.draw();
    },
    toast,
    'danger',
  );
}

function accountForm(ctx: Ctx, d: Dev): HTMLElement {
  return apiForm({
    title: `New account on ${d.name}`,
    id: `account-new-${d.id}`,
    fields: [
      { name: 'name', label: `Account name on ${d.name}`, hint: 'What the device asks for at login' },
      { name: 'secret', label: `Secret of the new account on ${d.name}`, type: 'password', optional: true },
    ],
    schema: DeviceAccountCreate,
    submit: 'Add account',
    send: async (b) => {
      await post<Dev>(`/v1/devices/${d.id}/accounts`, b);
      ctx.opened.add(d.id);
      await ctx.draw();
      return `Account ${b.name} added to ${d.name}.`;
    },
  });
}

function editForm(ctx: Ctx, d: Dev): HTMLElement {
  return apiForm({
    title: `Change ${d.name}`,
    id: `device-edit-${d.id}`,
    fields: [
      { name: 'name', label: `Name of ${d.name}`, value: d.name },
      { name: 'address', label: `Address of ${d.name}`, value: d.address },
      { name: 'protocol', label: `Protocol of ${d.name}`, type: 'select', options: PROTOCOLS, value: d.protocol },
      { name: 'port', label: `Port of ${d.name}`, type: 'number', value: String(d.port) },
      {
        name: 'hostKey',
        label: `Host key of ${d.name}`,
        type: 'textarea',
        optional: true,
        value: d.hostKey ?? '',
        hint: 'Empty: unchanged (Forget in the table clears it)',
      },
    ],
    schema: DeviceUpdate,
    submit: 'Save device',
    send: async (b) => {
      const after = await patch<Dev>(`/v1/devices/${d.id}`, b);
      await ctx.draw();
      return `${after.name} saved.`;
    },
  });
}

function deviceForm(ctx: Ctx): HTMLElement {
  const fields: FieldSpec[] = [
    { name: 'name', label: 'Device name' },
    { name: 'address', label: 'Device address', hint: 'Host name or IP address' },
    { name: 'protocol', label: 'Protocol', type: 'select', options: PROTOCOLS },
    { name: 'port', label: 'Port', type: 'number', optional: true, hint: 'Empty: 22 for SSH, 23 for telnet' },
    {
      name: 'profileId',
      label: 'Vendor profile',
      type: 'select',
      numeric: true,
      optional: true,
      options: [['', '— choose —'], ...ctx.profiles.map((p): [string, string] => [String(p.id), p.name])],
    },
    {
      name: 'serviceId',
      label: 'Device service',
      type: 'select',
      numeric: true,
      optional: true,
      options: serviceOptions(ctx.services, ['', '— none —']),
    },
    { name: 'state', label: 'Device environment', type: 'select', options: ENVIRONMENTS },
    {
      name: 'hostKey',
      label: 'SSH host key',
      type: 'textarea',
      optional: true,
      hint: 'Empty: pinned by the first administrator who opens it',
    },
  ];
  return apiForm({
    title: 'Register a device',
    id: 'device-new',
    fields,
    schema: DeviceCreate,
    submit: 'Register device',
    send: async (b) => {
      const d = await post<Dev>('/v1/devices', b);
      ctx.opened.add(d.id);
      await ctx.draw();
      return `${d.name} registered; add the account jmp-ssh logs in with.`;
    },
  });
}

function profilesSection(ctx: Ctx): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'profiles-h' },
    h('h2', { id: 'profiles-h' }, 'Vendor profiles'),
    h(
      'p',
      { class: 'hint' },
      'How jmp-ssh talks to a kind of device: its prompt, pager, login steps, SSH algorithms, and the commands it judges.',
    ),
    table(
      'Vendor profiles',
      ['Profile', 'Rules', 'Prompt', ...(ctx.admin ? ['Change'] : ['Specification'])],
      ctx.profiles.map((p) => [
        h('strong', {}, p.name),
        specSummary(p.spec),
        h('code', {}, p.spec.prompt),
        ctx.admin
          ? h('details', {}, h('summary', {}, `Change ${p.name}`), profileForm(ctx, p))
          : h(
              'details',
              {},
              h('summary', {}, `Specification of ${p.name}`),
              h('pre', { class: 'mono' }, JSON.stringify(p.spec, null, 2)),
            ),
      ]),
      { empty: 'No vendor profile yet: add one before the first device.' },
    ),
    ctx.admin ? profileForm(ctx) : '',
  );
}

/** A new profile, or changes to `p`. The spec is JSON; empty takes every default. */
function profileForm(ctx: Ctx, p?: Profile): HTMLElement {
  const what = p ? ` of ${p.name}` : '';
  return apiForm({
    title: p ? `Change ${p.name}` : 'New vendor profile',
    id: p ? `profile-edit-${p.id}` : 'profile-new',
    fields: [
      { name: 'name', label: `Profile name${what}`, value: p?.name ?? '' },
      {
        name: 'spec',
        label: `Specification${what} (JSON)`,
        type: 'textarea',
        rows: p ? 12 : 4,
        optional: !p,
        value: p ? JSON.stringify(p.spec, null, 2) : '',
        hint: p ? undefined : 'Empty: the defaults (a Cisco-like prompt and login); add rules later',
      },
    ],
    schema: p ? DeviceProfileUpdate : DeviceProfileCreate,
    prepare: (raw) => (p ? withSpec(raw) : withSpec({ spec: '', ...raw })),
    submit: p ? 'Save profile' : 'Create profile',
    send: async (b) => {
      const saved = await (p
        ? patch<Profile>(`/v1/device-profiles/${p.id}`, b)
        : post<Profile>('/v1/device-profiles', b));
      await ctx.draw();
      return `Profile ${saved.name} ${p ? 'saved' : 'created'}.`;
    },
  });
}
