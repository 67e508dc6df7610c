// GET /v1/sessions/:id/desktop-recording: a desktop's recording (guacd's
// display stream, stored by jmp-rdp as `<session>.part-NNNN.guac.gz`) for the
// console's Guacamole.SessionRecording player, from the local store or S3
// (the same JMP_RECORDING_S3_* settings as terminal recordings).
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { JmpError } from '@jmp/contract';
import { S3Objects } from '@jmp/recording';
import type { RouteModule } from '../http/app.js';
import { readableSession } from '../sessions/readable.js';
import { s3Client } from '../sessions/recording.js';

const IdParam = z.object({ id: z.string().uuid() });
const PART = /\.part-(\d{4,})\.guac\.gz$/;
const byPart = (a: string, b: string) => Number(PART.exec(a)![1]) - Number(PART.exec(b)![1]);

/** The recording's parts in order, each opened when its turn comes. */
async function desktopParts(uri: string): Promise<Array<() => Promise<Readable>>> {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (s3) {
    const objects = new S3Objects(s3Client(), s3[1]!);
    const found = await objects.list(`${s3[2]!}.part-`);
    return found.objects
      .filter((o) => PART.test(o.key))
      .sort((a, b) => byPart(a.key, b.key))
      .map((o) => async () => Readable.from([await objects.getRange(o.key, 0, o.size)]));
  }
  if (!uri.startsWith('file:')) return [];
  const prefix = fileURLToPath(uri);
  return (await readdir(dirname(prefix)).catch(() => [] as string[]))
    .filter((f) => f.startsWith(`${basename(prefix)}.part-`) && PART.test(f))
    .sort(byPart)
    .map((f) => async () => createReadStream(`${dirname(prefix)}/${f}`));
}

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
      const parts = await desktopParts(row.recordingUri);
      if (!parts.length)
        throw new JmpError('not_found', `the recording of session ${params.id} is missing from the store`);
      res.status(200).type('application/octet-stream').set('cache-control', 'private, no-store');
      for (const part of parts) {
        if (res.destroyed) break;
        await pipeline(await part(), createGunzip(), res, { end: false });
      }
      res.end();
    },
  );
};
