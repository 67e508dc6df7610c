// File transfers (jmp-sftp and jmp-ssh's sftp subsystem): each file operation
// with who, host, path, bytes, result and the SHA-256 of sequential uploads,
// filtered by host, user and path prefix. Everyone sees their own; auditors
// and administrators everyone's (jmp-api decides).
import type { z } from 'zod';
import type { FileOperationList } from '@jmp/contract/schemas/files';
import { get } from '../api.js';
import { field, h, message, setMessage, table } from '../dom.js';
import type { Page } from '../router.js';
import { bytes, heading, time } from './common.js';

type Operations = z.infer<typeof FileOperationList>;

/** Sizes as the rest of the console shows them. */
export const size = bytes;

export const filesPage: Page = {
  title: 'File transfers',
  async render(main, _params, signal) {
    const host = h('input', { name: 'host', autocomplete: 'off' });
    const user = h('input', { name: 'user', autocomplete: 'off' });
    const path = h('input', { name: 'path', autocomplete: 'off', placeholder: '/web-01/tmp/' });
    const list = h('div');
    const msg = message();
    const load = async () => {
      try {
        const r = await get<Operations>('/v1/file-operations', {
          host: host.value.trim(),
          user: user.value.trim(),
          path: path.value.trim(),
          limit: 200,
        });
        if (signal.aborted) return;
        setMessage(msg, '', 'ok');
        list.replaceChildren(
          table(
            'File operations',
            ['When', 'Who', 'Host', 'Operation', 'Path', 'Read', 'Written', 'Result', 'SHA-256', 'Session'],
            r.items.map((o) => [
              time(o.at),
              o.user,
              o.host,
              o.operation,
              h('code', {}, o.path2 ? `${o.path} → ${o.path2}` : o.path),
              size(o.bytesRead),
              size(o.bytesWritten),
              o.message ? `${o.result}: ${o.message}` : o.result,
              o.sha256 ? h('code', { title: o.sha256 }, `${o.sha256.slice(0, 12)}…`) : '',
              o.session ? h('a', { href: `#/sessions/${o.session}` }, o.session.slice(0, 8)) : '',
            ]),
            { empty: 'No file operation matches.' },
          ),
        );
      } catch (err) {
        setMessage(msg, (err as Error).message);
      }
    };
    main.append(
      heading('File transfers'),
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
        field('Host', host),
        field('User', user),
        field('Path starts with', path),
        h('button', { type: 'submit' }, 'Filter'),
      ),
      msg,
      list,
    );
    await load();
  },
};
