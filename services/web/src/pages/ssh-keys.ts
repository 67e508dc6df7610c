// A person's SSH public keys: list, remove, add. The same editor for the
// person's own keys (/v1/me/keys) and an administrator's view of anyone's
// (/v1/users/:id/keys); read-only for auditors.
import type { z } from 'zod';
import { UserKeyCreate, type UserKey as UserKeySchema } from '@jmp/contract/schemas/admin';
import { api, get, post } from '../api.js';
import { h, table, toast } from '../dom.js';
import { time } from './common.js';
import { actionButton, apiForm } from './forms.js';

type UserKey = z.infer<typeof UserKeySchema>;

export function keysEditor(base: string, caption: string, signal: AbortSignal, editable = true): HTMLElement {
  const list = h('div');
  const load = async () => {
    const { items } = await get<{ items: UserKey[] }>(base);
    if (signal.aborted) return;
    list.replaceChildren(
      table(
        caption,
        editable ? ['Comment', 'Fingerprint', 'Added', ''] : ['Comment', 'Fingerprint', 'Added'],
        items.map((k) => [
          k.comment || '—',
          h('code', {}, k.fingerprint),
          time(k.createdAt),
          editable &&
            actionButton(
              'Remove',
              `Remove the key ${k.comment || k.fingerprint}`,
              async () => {
                await api('DELETE', `${base}/${k.id}`);
                toast('Key removed.');
                await load();
              },
              toast,
              'danger',
            ),
        ]),
        { empty: 'No SSH keys: jmp asks for the password (and code).' },
      ),
    );
  };
  void load().catch((err: Error) => toast(err.message));
  if (!editable) return list;
  const form = apiForm({
    title: 'Add an SSH public key',
    id: `key-add${base.replace(/[^a-z0-9]+/gi, '-')}`,
    fields: [
      { name: 'publicKey', label: 'Public key', type: 'textarea', hint: 'One line: ssh-ed25519 AAAA… comment' },
      { name: 'comment', label: 'Comment', optional: true, hint: 'Optional; the key line’s comment otherwise' },
    ],
    schema: UserKeyCreate,
    submit: 'Add key',
    send: async (body) => {
      const k = await post<UserKey>(base, body);
      await load();
      return `Key ${k.fingerprint} added.`;
    },
  });
  return h('div', {}, list, form);
}
