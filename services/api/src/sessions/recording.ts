// GET /v1/sessions/:id/recording: the session's asciicast v2 text for the web
// console's player. jmp-api reads the recording with jmp-ssh's own store code
// (a local directory shared with jmp-ssh, or S3), so parts are stitched and a
// part cut by a crash is read the same way everywhere (docs/decisions.md).
import { once } from 'node:events';
import type { Response } from 'express';
import { z } from 'zod';
import type { S3Client } from '@aws-sdk/client-s3';
import { JmpError } from '@jmp/contract';
import { loadConfig } from '@jmp/runtime';
import { readRecording, createS3Client } from '@jmp/recording';
import { headerLine, eventLine } from '@jmp/recording/asciicast';
import type { RouteModule } from '../http/app.js';
import { readableSession } from './readable.js';
import { apiRecordingReaderSpec } from '../config.js';

const IdParam = z.object({ id: z.string().uuid() });

let s3: S3Client | undefined;
/** The recording store's S3 client (JMP_RECORDING_S3_*), made on first use. */
export function s3Client(): S3Client {
  if (!s3) {
    const c = loadConfig(apiRecordingReaderSpec);
    s3 = createS3Client({ region: c.s3Region, endpoint: c.s3Endpoint, forcePathStyle: c.s3ForcePathStyle });
  }
  return s3;
}

async function write(res: Response, text: string): Promise<void> {
  if (!res.write(text)) await once(res, 'drain');
}

export const recordingRoutes: RouteModule = (api, ctx, auth) => {
  api.route(
    'get',
    '/v1/sessions/:id/recording',
    {
      summary: 'The recording of an ended session as asciicast v2 text (whoever may read the session)',
      tags: ['sessions'],
      auth: auth.user(),
      security: 'user',
      params: IdParam,
    },
    async ({ params, principal, res }) => {
      if (principal.kind !== 'user') throw new Error('unreachable');
      const row = await readableSession(ctx.db, params.id, principal.user);
      if (!row.recordingUri) {
        throw new JmpError(
          'not_found',
          row.endedAt
            ? `session ${params.id} has no recording`
            : `session ${params.id} is still running; its recording is available once it ends`,
        );
      }
      const uri = row.recordingUri;
      const items = readRecording(uri, {
        ...(uri.startsWith('s3://') ? { s3: s3Client() } : {}),
        onDamage: (part, problem) =>
          ctx.log.warn({ session: params.id, part, problem }, 'recording part damaged; replaying what was readable'),
      });
      let started = false;
      try {
        for await (const item of items) {
          if (res.destroyed) break; // the viewer went away: stop reading
          if (!started) {
            res.status(200).type('application/x-asciicast; charset=utf-8').set('cache-control', 'private, no-store');
            started = true;
          }
          if (item.type === 'header') await write(res, headerLine(item.header));
          else await write(res, eventLine(item.event[0].toFixed(6), item.event[1], item.event[2]));
        }
      } catch (err) {
        if (!started) {
          if (/^no recording at /.test((err as Error).message))
            throw new JmpError('not_found', `the recording of session ${params.id} is missing from the store`);
          ctx.log.error({ session: params.id, err: (err as Error).message }, 'recording unreadable');
          throw new JmpError(
            'unavailable',
            `the recording of session ${params.id} cannot be read now; try again shortly`,
          );
        }
        ctx.log.error({ session: params.id, err: (err as Error).message }, 'recording read failed mid-stream');
        res.destroy();
        return undefined;
      }
      if (!started) throw new JmpError('not_found', `session ${params.id} has an empty recording`);
      res.end();
      return undefined;
    },
  );
};
