// The organisation: departments (a tree), projects and their services, and
// who holds which role (owner, ops, ops lead) on a project or service.
// Administrators change it; auditors read it.
import type { z } from 'zod';
import {
  DepartmentCreate,
  ProjectCreate,
  RoleCreate,
  ServiceCreate,
  type AdminRole,
  type AdminUser,
  type Department,
  type Project,
  type Service,
} from '@jmp/contract/schemas/admin';
import { api, get, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';
import { actionButton, apiForm } from './forms.js';

type Dept = z.infer<typeof Department>;
type Proj = z.infer<typeof Project>;
type Svc = z.infer<typeof Service>;
type Role = z.infer<typeof AdminRole>;
type User = z.infer<typeof AdminUser>;
const all = { limit: 500 };

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
        get<{ items: User[] }>('/v1/users', all),
      ]);
      if (signal.aborted) return;
      const deptName = new Map(depts.items.map((d) => [d.id, d.name]));
      const projName = new Map(projects.items.map((p) => [p.id, p.name]));
      const svcName = new Map(services.items.map((s) => [s.id, `${projName.get(s.projectId) ?? '?'}/${s.name}`]));
      const userName = new Map(users.items.map((u) => [u.id, u.username]));
      const scopeName = (t: string, id: number) => (t === 'service' ? svcName.get(id) : projName.get(id)) ?? `#${id}`;
      const done = async (text: string, id: string) => {
        toast(text);
        await draw(id);
        return text;
      };
      const none: Array<[string, string]> = [['', '— none —']];
      const sections: HTMLElement[] = [
        h(
          'section',
          { 'aria-labelledby': 'dept-h' },
          h('h2', { id: 'dept-h' }, 'Departments'),
          table(
            'Departments',
            ['Department', 'Part of', 'Leader'],
            depts.items.map((d) => [
              h('strong', {}, d.name),
              d.parentId ? (deptName.get(d.parentId) ?? `#${d.parentId}`) : '—',
              d.leaderId ? (userName.get(d.leaderId) ?? `#${d.leaderId}`) : '—',
            ]),
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
                  options: [...none, ...depts.items.map((d): [string, string] => [String(d.id), d.name])],
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
            'Projects and services',
            ['Project', 'Services'],
            projects.items.map((p) => [
              h('strong', {}, p.name),
              services.items
                .filter((s) => s.projectId === p.id)
                .map((s) => s.name)
                .join(', ') || '—',
            ]),
            { empty: 'No projects yet.' },
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
              r.opsLead ? badge('ops lead', 'warn') : r.role,
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
                  options: [
                    ['ops', 'ops'],
                    ['owner', 'owner'],
                    ['lead', 'ops lead'],
                  ],
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
                return {
                  ...rest,
                  role: role === 'lead' ? 'ops' : role,
                  opsLead: role === 'lead',
                  ...(id ? { scopeType, scopeId: Number(id) } : {}),
                };
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
