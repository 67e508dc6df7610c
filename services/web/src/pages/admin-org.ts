// The organisation: departments (a tree), projects and their services, and
// who holds which role (owner, ops, ops lead) on a project or service.
// Administrators change it; auditors read it.
import type { z } from 'zod';
import {
  DepartmentCreate,
  DepartmentUpdate,
  ProjectCreate,
  ProjectUpdate,
  RoleCreate,
  RoleUpdate,
  ServiceCreate,
  ServiceUpdate,
  type AdminRole,
  type AdminUser,
  type Department,
  type Project,
  type Service,
} from '@jmp/contract/schemas/admin';
import { api, get, patch, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';
import { actionButton, apiForm, inlineForm, savingSelect } from './forms.js';
import { memberLine, membersOf, roleChoice, roleOfChoice } from './org-edit.js';
import { serviceNames } from './org-names.js';

type Dept = z.infer<typeof Department>;
type Proj = z.infer<typeof Project>;
type Svc = z.infer<typeof Service>;
type Role = z.infer<typeof AdminRole>;
type User = z.infer<typeof AdminUser>;
const all = { limit: 500 };
const ROLE_CHOICES: Array<[string, string]> = [
  ['ops', 'ops'],
  ['owner', 'owner'],
  ['lead', 'ops lead'],
];

export const orgPage: Page = {
  title: 'Organisation',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const draw = async (focusId?: string) => {
      const [depts, projects, services, roles, users] = await Promise.all([
        get<{ items: Dept[] }>('/v1/departments', all),
        get<{ items: Proj[] }>('/v1/projects', all),
        get<{ items: Svc[] }>('/v1/services', all),
        get<{ items: Role[] }>('/v1/roles', all),
        get<{ items: User[]; total: number }>('/v1/users', all),
      ]);
      if (signal.aborted) return;
      // With more people than one page, each department's members are asked for by department.
      const byDept =
        users.total > users.items.length
          ? new Map(
              await Promise.all(
                depts.items.map(async (d) => {
                  const page = await get<{ items: User[]; total: number }>('/v1/users', { ...all, departmentId: d.id });
                  return [d.id, memberLine(page.items.map((u) => u.username).sort(), page.total)] as const;
                }),
              ),
            )
          : null;
      if (signal.aborted) return;
      const deptName = new Map(depts.items.map((d) => [d.id, d.name]));
      const projName = new Map(projects.items.map((p) => [p.id, p.name]));
      const svcName = serviceNames(projects.items, services.items);
      const userName = new Map(users.items.map((u) => [u.id, u.username]));
      const scopeName = (t: string, id: number) => (t === 'service' ? svcName.get(id) : projName.get(id)) ?? `#${id}`;
      const done = async (text: string, id: string) => {
        toast(text);
        await draw(id);
        return text;
      };
      const none: Array<[string, string]> = [['', '— none —']];
      const deptOptions = [...none, ...depts.items.map((d): [string, string] => [String(d.id), d.name])];
      const userOptions = [...none, ...users.items.map((u): [string, string] => [String(u.id), u.username])];
      const projectOptions = projects.items.map((p): [string, string] => [String(p.id), p.name]);
      /** A select saving one id field with PATCH, checked with the API's schema first. */
      const patchSelect = (
        path: string,
        key: string,
        label: string,
        options: Array<[string, string]>,
        value: number | null,
        schema: z.ZodType,
        said: (v: number | null) => string,
      ) =>
        savingSelect({
          name: key,
          label,
          options,
          value: value === null ? '' : String(value),
          save: async (v) => {
            const id = v ? Number(v) : null;
            const body = schema.safeParse({ [key]: id });
            if (!body.success) throw new Error(`${label}: ${body.error.issues[0]!.message}`);
            await patch(path, body.data);
            return said(id);
          },
          report: toast,
          reload: () => draw(),
        });
      /** Rename in place and delete: the actions of a department, project or service. */
      const rowActions = (path: string, what: string, current: string, schema: z.ZodType, focusId: string) =>
        h(
          'div',
          { class: 'inline-actions' },
          inlineForm({
            spec: { name: 'name', label: 'Name', value: current },
            label: `New name of ${what}`,
            schema,
            submit: 'Rename',
            submitLabel: `Rename ${what}`,
            send: async (b) => {
              await patch(path, b);
              await draw(focusId);
              return `Renamed to ${String((b as { name?: string }).name)}.`;
            },
            report: toast,
          }),
          deleteButton(path, what, focusId),
        );
      const deleteButton = (path: string, what: string, focusId: string) =>
        actionButton(
          'Delete',
          `Delete ${what}`,
          async () => {
            if (!confirm(`Delete ${what}?`)) return;
            await api('DELETE', path);
            toast(`${what[0]!.toUpperCase()}${what.slice(1)} deleted.`);
            await draw(focusId);
          },
          toast,
          'danger',
        );
      const sections: HTMLElement[] = [
        h(
          'section',
          { 'aria-labelledby': 'dept-h' },
          h('h2', { id: 'dept-h' }, 'Departments'),
          table(
            'Departments',
            ['Department', 'Part of', 'Leader', 'Members', ''],
            depts.items.map((d) => {
              const members = byDept?.get(d.id) ?? memberLine(membersOf(d.id, users.items), 0);
              return [
                h('strong', {}, d.name),
                admin
                  ? patchSelect(
                      `/v1/departments/${d.id}`,
                      'parentId',
                      `Department ${d.name} is part of`,
                      deptOptions.filter(([id]) => id !== String(d.id)),
                      d.parentId,
                      DepartmentUpdate,
                      (v) => `${d.name} is now part of ${v ? deptName.get(v) : 'nothing'}.`,
                    )
                  : d.parentId
                    ? (deptName.get(d.parentId) ?? `#${d.parentId}`)
                    : '—',
                admin
                  ? patchSelect(
                      `/v1/departments/${d.id}`,
                      'leaderId',
                      `Leader of ${d.name}`,
                      userOptions,
                      d.leaderId,
                      DepartmentUpdate,
                      (v) => `${v ? userName.get(v) : 'Nobody'} now leads ${d.name}.`,
                    )
                  : d.leaderId
                    ? (userName.get(d.leaderId) ?? `#${d.leaderId}`)
                    : '—',
                h('span', { 'data-members': d.name }, members),
                admin
                  ? rowActions(`/v1/departments/${d.id}`, `department ${d.name}`, d.name, DepartmentUpdate, 'dept-h')
                  : '',
              ];
            }),
            { empty: 'No departments yet.' },
          ),
          admin &&
            apiForm({
              title: 'New department',
              id: 'dept-new',
              fields: [
                { name: 'name', label: 'Department name' },
                {
                  name: 'parentId',
                  label: 'Part of',
                  type: 'select',
                  numeric: true,
                  optional: true,
                  options: deptOptions,
                },
                {
                  name: 'leaderId',
                  label: 'Led by',
                  type: 'select',
                  numeric: true,
                  optional: true,
                  options: userOptions,
                },
              ],
              schema: DepartmentCreate,
              submit: 'Create department',
              send: async (b) =>
                done(`Department "${(await post<Dept>('/v1/departments', b)).name}" created.`, 'dept-new'),
            }),
        ),
        h(
          'section',
          { 'aria-labelledby': 'proj-h' },
          h('h2', { id: 'proj-h' }, 'Projects and services'),
          table(
            'Projects',
            ['Project', 'Description', 'Services', ''],
            projects.items.map((p) => [
              h('strong', {}, p.name),
              p.description || '—',
              services.items
                .filter((x) => x.projectId === p.id)
                .map((x) => x.name)
                .join(', ') || '—',
              admin ? rowActions(`/v1/projects/${p.id}`, `project ${p.name}`, p.name, ProjectUpdate, 'proj-h') : '',
            ]),
            { empty: 'No projects yet.' },
          ),
          services.items.length > 0 &&
            table(
              'Services',
              ['Service', 'In project', 'Hop tickets', ''],
              services.items.map((x) => [
                h('strong', {}, svcName.get(x.id) ?? x.name),
                admin
                  ? patchSelect(
                      `/v1/services/${x.id}`,
                      'projectId',
                      `Project of service ${x.name}`,
                      projectOptions,
                      x.projectId,
                      ServiceUpdate,
                      (v) => `Service ${x.name} moved to ${projName.get(v ?? 0) ?? `#${v}`}.`,
                    )
                  : (projName.get(x.projectId) ?? `#${x.projectId}`),
                admin
                  ? savingSelect({
                      name: 'hopTickets',
                      label: `Hop tickets in service ${x.name}`,
                      options: [
                        ['true', 'allowed'],
                        ['false', 'not allowed'],
                      ],
                      value: String(x.hopTickets),
                      save: async (v) => {
                        await patch(`/v1/services/${x.id}`, ServiceUpdate.parse({ hopTickets: v === 'true' }));
                        return `Hop tickets ${v === 'true' ? 'allowed' : 'not allowed'} in ${x.name}.`;
                      },
                      report: toast,
                      reload: () => draw(),
                    })
                  : x.hopTickets
                    ? 'allowed'
                    : 'not allowed',
                admin
                  ? rowActions(`/v1/services/${x.id}`, `service ${svcName.get(x.id)}`, x.name, ServiceUpdate, 'proj-h')
                  : '',
              ]),
            ),
          admin &&
            h(
              'div',
              { class: 'row forms' },
              apiForm({
                title: 'New project',
                id: 'proj-new',
                fields: [
                  { name: 'name', label: 'Project name' },
                  { name: 'description', label: 'Description', optional: true },
                ],
                schema: ProjectCreate,
                submit: 'Create project',
                send: async (b) => done(`Project "${(await post<Proj>('/v1/projects', b)).name}" created.`, 'proj-new'),
              }),
              apiForm({
                title: 'New service',
                id: 'svc-new',
                fields: [
                  {
                    name: 'projectId',
                    label: 'In project',
                    type: 'select',
                    numeric: true,
                    optional: true,
                    options: [
                      ['', '— choose —'],
                      ...projects.items.map((p): [string, string] => [String(p.id), p.name]),
                    ],
                  },
                  { name: 'name', label: 'Service name' },
                ],
                schema: ServiceCreate,
                submit: 'Create service',
                send: async (b) => done(`Service "${(await post<Svc>('/v1/services', b)).name}" created.`, 'svc-new'),
              }),
            ),
        ),
        h(
          'section',
          { 'aria-labelledby': 'roles-h' },
          h('h2', { id: 'roles-h' }, 'Roles'),
          h(
            'p',
            { class: 'hint' },
            'Ops may log in and become root on every host in scope; owners log in, and are root only on non-production hosts.',
          ),
          table(
            'Roles',
            ['Person', 'Role', 'On', ''],
            roles.items.map((r) => [
              userName.get(r.userId) ?? `#${r.userId}`,
              admin
                ? savingSelect({
                    name: 'role',
                    label: `Role of ${userName.get(r.userId) ?? r.userId} on ${scopeName(r.scopeType, r.scopeId)}`,
                    options: ROLE_CHOICES,
                    value: roleChoice(r),
                    save: async (v) => {
                      const body = RoleUpdate.safeParse(roleOfChoice(v));
                      if (!body.success) throw new Error(body.error.issues[0]!.message);
                      const u = await patch<Role>(`/v1/roles/${r.id}`, body.data);
                      return `${userName.get(u.userId)} is now ${roleChoice(u) === 'lead' ? 'ops lead' : u.role} of ${scopeName(u.scopeType, u.scopeId)}.`;
                    },
                    report: toast,
                    reload: () => draw('roles-h'),
                  })
                : r.opsLead
                  ? badge('ops lead', 'warn')
                  : r.role,
              `${r.scopeType} ${scopeName(r.scopeType, r.scopeId)}`,
              admin
                ? actionButton(
                    'Remove',
                    `Remove ${r.role} of ${userName.get(r.userId) ?? r.userId} on ${scopeName(r.scopeType, r.scopeId)}`,
                    async () => {
                      await api('DELETE', `/v1/roles/${r.id}`);
                      toast('Role removed.');
                      await draw('roles-h');
                    },
                    toast,
                    'danger',
                  )
                : '',
            ]),
            { empty: 'No roles yet.' },
          ),
          admin &&
            apiForm({
              title: 'Give a role',
              id: 'role-new',
              fields: [
                {
                  name: 'userId',
                  label: 'Person',
                  type: 'select',
                  numeric: true,
                  optional: true,
                  options: [
                    ['', '— choose —'],
                    ...users.items.map((u): [string, string] => [String(u.id), u.username]),
                  ],
                },
                {
                  name: 'role',
                  label: 'Role',
                  type: 'select',
                  options: ROLE_CHOICES,
                },
                {
                  name: 'scope',
                  label: 'On',
                  type: 'select',
                  optional: true,
                  options: [
                    ['', '— choose —'],
                    ...services.items.map((s): [string, string] => [`service:${s.id}`, `service ${svcName.get(s.id)}`]),
                    ...projects.items.map((p): [string, string] => [`project:${p.id}`, `project ${p.name}`]),
                  ],
                },
              ],
              schema: RoleCreate,
              prepare: ({ scope, role, ...rest }) => {
                const [scopeType, id] = String(scope ?? '').split(':');
                return { ...rest, ...roleOfChoice(String(role)), ...(id ? { scopeType, scopeId: Number(id) } : {}) };
              },
              submit: 'Give role',
              send: async (b) => {
                const r = await post<Role>('/v1/roles', b);
                return done(
                  `${userName.get(r.userId)} is now ${r.opsLead ? 'ops lead' : r.role} of ${scopeName(r.scopeType, r.scopeId)}.`,
                  'role-new',
                );
              },
            }),
        ),
      ];
      main.replaceChildren(heading('Organisation'), ...sections);
      if (focusId)
        main
          .querySelector<HTMLElement>(`#${focusId}`)
          ?.closest('form')
          ?.querySelector<HTMLElement>('input, select')
          ?.focus();
    };
    await draw();
  },
};
