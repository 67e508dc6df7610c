// GET /v1/sessions/:id/desktop-recording: a desktop's recording (guacd's
// display stream, stored by jmp-rdp as `<session>.part-NNNN.guac.gz`) for the
// console's Guacamole.SessionRecording player. Local store only for now: an
// S3 URI is answered 409 with a sentence.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { JmpError } from '@jmp/contract';
import type { RouteModule } from '../http/app.js';
import { readableSession } from '../sessions/readable.js';

const IdParam = z.object({ id: z.string().uuid() });
const PART = /\.part-(\d{4,})\.guac\.gz$/;

export const desktopRecordingRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'get',
    '/v1/sessions/:id/desktop-recording',
    {
      summary: "A desktop session's recording (Guacamole protocol text) for the console's player",
      tags: ['sessions', 'desktop'],
      auth: auth.user(),
      security: 'user',
      params: IdParam,
    },
    async ({ params, principal, res }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const row = await readableSession(ctx.db, params.id, principal.user);
      if (!row.recordingUri) throw new JmpError('not_found', `session ${params.id} has no recording`);
      if (!row.recordingUri.startsWith('file:'))
        throw new JmpError('conflict', 'desktop recordings in S3 cannot be replayed in the console yet');
      const prefix = fileURLToPath(row.recordingUri);
      const parts = (await readdir(dirname(prefix)).catch(() => [] as string[]))
        .filter((f) => f.startsWith(`${basename(prefix)}.part-`) && PART.test(f))
        .sort((a, b) => Number(PART.exec(a)![1]) - Number(PART.exec(b)![1]));
      if (!parts.length)
        throw new JmpError('not_found', `the recording of session ${params.id} is missing from the store`);
      res.status(200).type('application/octet-stream').set('cache-control', 'private, no-store');
      for (const p of parts) {
        if (res.destroyed) break;
        await pipeline(createReadStream(`${dirname(prefix)}/${p}`), createGunzip(), res, { end: false });
      }
      res.end();
    },
  );
};
