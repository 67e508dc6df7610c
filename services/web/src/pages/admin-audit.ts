// The audit log: filter by action, actor and target; check the hash chain
// ("verified up to entry N", or where it breaks). Auditors and administrators.
import type { z } from 'zod';
import type { AuditEntry, AuditVerify } from '@jmp/contract/schemas/admin';
import { get } from '../api.js';
import { field, h, message, setMessage, table } from '../dom.js';
import type { Page } from '../router.js';
import { heading, time } from './common.js';

type Verify = z.infer<typeof AuditVerify>;

export function verifySentence(v: Verify): string {
  if (v.ok) return `Chain verified up to entry ${v.checked}: no entry was changed or removed.`;
  return `The chain breaks at entry ${v.brokenAt ?? '?'}: that entry or one before it was changed or removed.`;
}

export const auditPage: Page = {
  title: 'Audit log',
  async render(main, _params, signal) {
    const action = h('input', { name: 'action', autocomplete: 'off', placeholder: 'user.* or host.created' });
    const actor = h('input', { name: 'actor', autocomplete: 'off' });
    const target = h('input', { name: 'target', autocomplete: 'off' });
    const list = h('div');
    const msg = message();
    const verdict = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
    const load = async () => {
      try {
        const r = await get<{ items: AuditEntry[] }>('/v1/audit', {
          action: action.value.trim(),
          actor: actor.value.trim(),
          target: target.value.trim(),
          limit: 200,
        });
        if (signal.aborted) return;
        setMessage(msg, '', 'ok');
        list.replaceChildren(
          table(
            'Audit entries',
            ['#', 'When', 'Who', 'Did', 'To', 'Details'],
            r.items.map((e) => [
              e.id,
              time(e.at),
              e.actor,
              h('code', {}, e.action),
              e.target,
              h('code', { class: 'audit-data' }, JSON.stringify(e.data)),
            ]),
            { empty: 'No entry matches.' },
          ),
        );
      } catch (err) {
        setMessage(msg, (err as Error).message);
      }
    };
    const verify = h('button', { type: 'button' }, 'Check the chain');
    verify.addEventListener('click', () => {
      verify.disabled = true;
      verdict.textContent = 'Checking…';
      void get<Verify>('/v1/audit/verify')
        .then((v) => {
          verdict.textContent = verifySentence(v);
          verdict.dataset.kind = v.ok ? 'ok' : 'error';
        })
        .catch((err: Error) => {
          verdict.textContent = err.message;
          verdict.dataset.kind = 'error';
        })
        .finally(() => {
          verify.disabled = false;
        });
    });
    main.append(
      heading('Audit log', verify),
      verdict,
      h(
        'form',
        {
          class: 'filters',
          role: 'search',
          onsubmit: (e: Event) => {
            e.preventDefault();
            void load();
          },
        },
        field('Action', action),
        field('Actor', actor),
        field('Target', target),
        h('button', { type: 'submit' }, 'Filter'),
      ),
      msg,
      list,
    );
    await load();
  },
};
