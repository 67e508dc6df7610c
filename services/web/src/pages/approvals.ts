// Approvals: the pending requests this person may decide, oldest first;
// approve (the grant is created at once) or reject, with an optional note.
import type { AccessRequestView } from '@jmp/contract/schemas/requests';
import { get, post } from '../api.js';
import { h, toast } from '../dom.js';
import type { Page } from '../router.js';
import { duration, heading, time } from './common.js';
import { scopeLabel } from './requests.js';

export const approvalsPage: Page = {
  title: 'Approvals',
  async render(main, _params, signal) {
    const box = h('div', { class: 'approvals' });
    const load = async () => {
      const { requests } = await get<{ requests: AccessRequestView[] }>('/v1/requests/pending-approval');
      if (signal.aborted) return;
      box.replaceChildren();
      if (!requests.length) {
        box.append(h('p', { class: 'empty' }, 'Nothing waits for you.'));
        return;
      }
      for (const r of requests) {
        const note = h('input', { name: 'note', maxlength: 2000, autocomplete: 'off', id: `note-${r.id}` });
        const decide = (action: 'approve' | 'reject') => async () => {
          for (const b of card.querySelectorAll('button')) b.disabled = true;
          try {
            await post(`/v1/requests/${r.id}/${action}`, note.value.trim() ? { note: note.value.trim() } : {});
            toast(`Request #${r.id} ${action === 'approve' ? 'approved' : 'rejected'}.`);
            await load();
            box.querySelector<HTMLElement>('button')?.focus();
          } catch (err) {
            toast((err as Error).message);
            for (const b of card.querySelectorAll('button')) b.disabled = false;
          }
        };
        const card = h(
          'article',
          { class: 'card request', 'aria-labelledby': `req-${r.id}`, 'data-request': r.id },
          h('h2', { id: `req-${r.id}` }, `${r.subject.name} asks for ${r.right} on ${scopeLabel(r)}`),
          h(
            'dl',
            {},
            h('dt', {}, 'For'),
            h('dd', {}, duration(r.durationSeconds)),
            h('dt', {}, 'Reason'),
            h('dd', {}, r.reason),
            h('dt', {}, 'Asked'),
            h('dd', {}, `${time(r.createdAt)} by ${r.requester.username}`),
            h('dt', {}, 'Waits until'),
            h('dd', {}, time(r.expiresAt)),
          ),
          h('div', { class: 'field' }, h('label', { for: note.id }, 'Note (optional)'), note),
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', class: 'primary', onclick: decide('approve'), 'aria-label': `Approve request ${r.id}` },
              'Approve',
            ),
            h(
              'button',
              { type: 'button', class: 'danger', onclick: decide('reject'), 'aria-label': `Reject request ${r.id}` },
              'Reject',
            ),
          ),
        );
        box.append(card);
      }
    };
    main.append(
      heading('Approvals'),
      h('p', { class: 'hint' }, 'Requests that wait for your decision. One approval grants the access.'),
      box,
    );
    await load();
  },
};
