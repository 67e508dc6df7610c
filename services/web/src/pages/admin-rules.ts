// Command rules: list, create (deny or allow list, everywhere or on a project
// or service), try a pattern against a sample line (RE2 on the server, the
// same engine as the guard), enable or disable, delete.
import { RuleCreate, RuleUpdate, type CommandRule } from '@jmp/contract/schemas/admin';
import { api, get, patch, post } from '../api.js';
import { field, h, message, select, setMessage, table, toast } from '../dom.js';
import type { Page } from '../router.js';
import { currentUser } from '../session-store.js';
import { badge, heading } from './common.js';
import { actionButton, apiForm, firstIssue } from './forms.js';
import { splitRef } from './admin-access.js';
import { loadServices } from './org-names.js';

const ACTIONS: Array<[string, string]> = [
  ['block', 'block'],
  ['alert', 'alert'],
];
const SEVERITIES: Array<[string, string]> = [
  ['high', 'high'],
  ['critical', 'critical'],
  ['medium', 'medium'],
  ['low', 'low'],
];
const LISTS: Array<[string, string]> = [
  ['deny', 'deny list (matching lines are judged)'],
  ['allow', 'allow list (only matching lines pass)'],
];

export const rulesPage: Page = {
  title: 'Command rules',
  async render(main, _params, signal) {
    const admin = !!currentUser()?.isAdmin;
    const org = await loadServices();
    if (signal.aborted) return;
    const projectName = new Map(org.projects.map((p) => [p.id, p.name]));
    const scopeName = (x: CommandRule) =>
      x.scopeType === 'global'
        ? 'everywhere'
        : `${x.scopeType} ${(x.scopeType === 'project' ? projectName : org.names).get(x.scopeId ?? 0) ?? `#${x.scopeId}`}`;
    const list_ = select('list', LISTS);
    const scopeChoices: Array<[string, string]> = [
      ['global:', 'everywhere'],
      ...org.projects.map((p): [string, string] => [`project:${p.id}`, `project ${p.name}`]),
      ...[...org.names].map(([id, n]): [string, string] => [`service:${id}`, `service ${n}`]),
    ];
    const scope = select('scope', scopeChoices);
    const name = h('input', { name: 'name', required: true, maxlength: 128, autocomplete: 'off' });
    const pattern = h('input', {
      name: 'pattern',
      required: true,
      maxlength: 4096,
      autocomplete: 'off',
      spellcheck: 'false',
      class: 'mono',
    });
    const action = select('action', ACTIONS);
    const severity = select('severity', SEVERITIES);
    const sample = h('input', {
      name: 'sample',
      maxlength: 16384,
      autocomplete: 'off',
      spellcheck: 'false',
      class: 'mono',
    });
    const msg = message();
    const testResult = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
    const testButton = h('button', { type: 'button' }, 'Test');
    const form = h(
      'form',
      { class: 'card', novalidate: true, 'aria-labelledby': 'rule-new' },
      h('h2', { id: 'rule-new' }, 'New rule'),
      h(
        'div',
        { class: 'row' },
        field('Name', name),
        field('Pattern (RE2)', pattern, 'Matched against the whole submitted line'),
      ),
      h(
        'div',
        { class: 'row' },
        field('Action', action),
        field('Severity', severity),
        field('List', list_),
        field('Applies to', scope),
      ),
      h('div', { class: 'row test-row' }, field('Sample line', sample), testButton),
      testResult,
      msg,
      h('button', { type: 'submit', class: 'primary' }, 'Create rule'),
    );
    const list = h('div');

    testButton.addEventListener('click', async () => {
      if (!pattern.value) {
        setMessage(testResult, 'Enter a pattern to test.');
        pattern.focus();
        return;
      }
      try {
        const r = await post<{ match: boolean }>('/v1/rules/test', { pattern: pattern.value, line: sample.value });
        setMessage(
          testResult,
          r.match
            ? `Matches: this line would be ${action.value === 'block' ? 'blocked' : 'alerted'}.`
            : 'No match: this line would pass.',
          r.match ? 'error' : 'ok',
        );
        testResult.dataset.match = String(r.match);
      } catch (err) {
        setMessage(testResult, (err as Error).message);
        delete testResult.dataset.match;
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const [scopeType] = scope.value.split(':');
      const body = RuleCreate.safeParse({
        name: name.value.trim(),
        pattern: pattern.value,
        action: action.value,
        severity: severity.value,
        list: list_.value,
        scopeType,
        ...splitRef(scope.value, 'scopeType', 'scopeId'),
      });
      if (!body.success) {
        setMessage(
          msg,
          firstIssue(body.error, { name: 'Name', pattern: 'Pattern (RE2)', list: 'List', scopeId: 'Applies to' }),
        );
        (body.error.issues[0]?.path[0] === 'pattern' ? pattern : name).focus();
        return;
      }
      try {
        const r = await post<CommandRule>('/v1/rules', body.data);
        setMessage(msg, `Rule "${r.name}" created and enabled.`, 'ok');
        name.value = '';
        pattern.value = '';
        sample.value = '';
        testResult.textContent = '';
        await load();
      } catch (err) {
        setMessage(msg, (err as Error).message);
      }
    });

    const load = async () => {
      const r = await get<{ items: CommandRule[]; total: number }>('/v1/rules', { limit: 500 });
      if (signal.aborted) return;
      list.replaceChildren(
        table(
          'Command rules',
          ['Name', 'Pattern', 'Action', 'List', 'Scope', 'State', ''],
          r.items.map((x) => [
            x.name,
            admin
              ? h(
                  'div',
                  {},
                  h('code', {}, x.pattern),
                  h(
                    'details',
                    { class: 'row-edit' },
                    h('summary', {}, `Change rule ${x.name}`),
                    ruleForm(x, scopeChoices, load),
                  ),
                )
              : h('code', {}, x.pattern),
            badge(`${x.action} · ${x.severity}`, x.action === 'block' ? 'bad' : 'warn'),
            x.list,
            scopeName(x),
            x.enabled ? badge('enabled', 'ok') : badge('disabled', 'muted'),
            admin
              ? h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `${x.enabled ? 'Disable' : 'Enable'} rule ${x.name}`,
                    onclick: async () => {
                      try {
                        await patch(`/v1/rules/${x.id}`, { enabled: !x.enabled });
                        toast(`Rule "${x.name}" ${x.enabled ? 'disabled' : 'enabled'}.`);
                        await load();
                      } catch (err) {
                        toast((err as Error).message);
                      }
                    },
                  },
                  x.enabled ? 'Disable' : 'Enable',
                )
              : '',
            admin
              ? actionButton(
                  'Delete',
                  `Delete rule ${x.name}`,
                  async () => {
                    if (!confirm(`Delete rule "${x.name}"?`)) return;
                    await api('DELETE', `/v1/rules/${x.id}`);
                    toast(`Rule "${x.name}" deleted.`);
                    await load();
                  },
                  toast,
                  'danger',
                )
              : '',
          ]),
          { empty: 'No command rule yet.' },
        ),
      );
    };
    main.append(heading('Command rules'), ...(admin ? [form] : []), list);
    await load();
  },
};

/** Every field of a rule, changed at once (jmp-api compiles the pattern with RE2 before storing it). */
function ruleForm(x: CommandRule, scopes: Array<[string, string]>, reload: () => Promise<void>): HTMLElement {
  const of = ` of rule ${x.name}`;
  return apiForm({
    title: `Change rule ${x.name}`,
    id: `rule-edit-${x.id}`,
    fields: [
      { name: 'name', label: `Name${of}`, value: x.name },
      { name: 'pattern', label: `Pattern${of}`, value: x.pattern, raw: true },
      { name: 'action', label: `Action${of}`, type: 'select', options: ACTIONS, value: x.action },
      { name: 'severity', label: `Severity${of}`, type: 'select', options: SEVERITIES, value: x.severity },
      { name: 'list', label: `List${of}`, type: 'select', options: LISTS, value: x.list },
      {
        name: 'scope',
        label: `Applies to${of}`,
        type: 'select',
        options: scopes,
        value: `${x.scopeType}:${x.scopeId ?? ''}`,
      },
    ],
    schema: RuleUpdate,
    prepare: ({ scope, ...rest }) => {
      const [scopeType, id] = String(scope).split(':');
      return { ...rest, scopeType, scopeId: id ? Number(id) : null };
    },
    submit: 'Save rule',
    send: async (b) => {
      const r = await patch<CommandRule>(`/v1/rules/${x.id}`, b);
      await reload();
      return `Rule "${r.name}" saved.`;
    },
  });
}
