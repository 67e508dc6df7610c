// Reads a recording back (replay, export, tests): finds a session's parts,
// inflates each as a stream and yields its events in order, as one recording.
//
// Stitching parts: every part starts with its own header (same `timestamp` =
// session start; width/height = terminal size when the part began; `jmp.part`
// = its number) and its event times count from the session start, not from the
// part. A player joins parts by reading them in part order, keeping the first
// header and appending the events of the others unchanged. To play one part
// alone, subtract the time of its first event (or use idle_time_limit); its
// screen starts blank, as the state left by earlier parts is not repeated.
//
// Parts are read tolerantly: a part cut by a crash (no gzip trailer, or cut
// inside a flush) yields every complete event before the cut.
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { eventLine, formatTime, isHeader, parseLine, type AsciicastEvent, type AsciicastHeader } from './asciicast.js';
import { errorMessage, partNumber, PART_RE } from './store.js';

export type RecordingItem =
  { type: 'header'; header: AsciicastHeader; part: number } | { type: 'event'; event: AsciicastEvent; part: number };

export interface ReadOptions {
  /** Needed for s3:// URIs. */
  s3?: S3Client;
  /** Also yield the header of every later part (default: only the first). */
  partHeaders?: boolean;
  /** A part that was cut or damaged: what was read before the damage was yielded. */
  onDamage?: (part: string, problem: string) => void;
}

/**
 * Events of a recording: `uri` is a session URI as returned by close()
 * (`file://…/<session>` or `s3://bucket/…/<session>`), a local path prefix
 * (`/dir/2025-01-31/<session>`), or one part (`….part-0002.cast.gz`).
 */
export async function* readRecording(uri: string, opts: ReadOptions = {}): AsyncGenerator<RecordingItem> {
  const parts = await listParts(uri, opts);
  if (!parts.length) throw new Error(`no recording at ${uri}`);
  let first = true;
  for (const p of parts) {
    const part = partNumber(p) ?? 1;
    for await (const x of readPart(p, opts)) {
      if (isHeader(x)) {
        if (first || opts.partHeaders) yield { type: 'header', header: x, part };
        first = false;
      } else {
        yield { type: 'event', event: x, part };
      }
    }
  }
}

/** The parts of a recording, in order (paths, or s3:// URIs). */
export async function listParts(uri: string, opts: ReadOptions = {}): Promise<string[]> {
  if (uri.startsWith('s3://')) {
    const { bucket, key } = parseS3Uri(uri);
    if (PART_RE.test(key)) return [uri];
    const s3 = needS3(opts);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `${key}.part-`, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) if (o.Key && PART_RE.test(o.Key)) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return byPart(keys).map((k) => `s3://${bucket}/${k}`);
  }
  const path = uri.startsWith('file:') ? fileURLToPath(uri) : uri;
  if (PART_RE.test(path) || path.endsWith('.cast.gz')) return [path];
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return [];
  }
  return byPart(names.filter((n) => n.startsWith(`${base}.part-`) && PART_RE.test(n))).map((n) =>
    join(dirname(path), n),
  );
}

/** The header and events of one part, tolerating a cut end. */
async function* readPart(part: string, opts: ReadOptions): AsyncGenerator<AsciicastHeader | AsciicastEvent> {
  let source: Readable;
  if (part.startsWith('s3://')) {
    const { bucket, key } = parseS3Uri(part);
    const r = await needS3(opts).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    source = r.Body as Readable;
  } else {
    source = createReadStream(part);
  }
  let problem: string | null = null;
  for await (const line of inflateLines(source, (p) => {
    problem = p;
  })) {
    let x;
    try {
      x = parseLine(line);
    } catch (err) {
      problem = `bad line: ${errorMessage(err)}`;
      break;
    }
    yield x;
  }
  if (problem) opts.onDamage?.(part, problem);
}

/**
 * Complete lines of a gzip stream. Inflates with Z_SYNC_FLUSH so a stream
 * without its trailer still gives everything flushed; a line cut by the end
 * or by damage is dropped and reported through `damaged`.
 */
export async function* inflateLines(source: Readable, damaged: (problem: string) => void): AsyncGenerator<string> {
  const gunzip = zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  const dec = new TextDecoder('utf-8');
  let rest = '';
  let total = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      total += chunk.length;
      const text = rest + dec.decode(chunk, { stream: true });
      const lines = text.split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l) yield l;
    }
  } catch (err) {
    damaged(total ? `cut or damaged after ${total} bytes (${errorMessage(err)})` : errorMessage(err));
    rest = '';
  } finally {
    source.destroy();
  }
  if (rest + dec.decode()) damaged('the last event was cut');
}

/**
 * A spooled part as a well-formed gzip: unchanged when it is intact;
 * otherwise its complete events plus a `recording_interrupted` marker,
 * recompressed. null when it holds no header (nothing worth keeping).
 */
export async function repairPart(data: Buffer): Promise<Buffer | null> {
  try {
    zlib.gunzipSync(data);
    return data; // intact: complete gzip member with trailer
  } catch {
    /* cut: rebuild below */
  }
  const lines: string[] = [];
  let lastT = 0;
  let header = false;
  for await (const line of inflateLines(Readable.from([data]), () => {})) {
    let x;
    try {
      x = parseLine(line);
    } catch {
      break;
    }
    if (isHeader(x)) header = true;
    else lastT = x[0];
    lines.push(line + '\n');
  }
  if (!header) return null;
  lines.push(
    eventLine(
      formatTime(lastT * 1000),
      'm',
      'recording_interrupted: the recorder stopped before closing this part; events after this point were lost',
    ),
  );
  return zlib.gzipSync(lines.join(''));
}

function byPart(names: string[]): string[] {
  return names.sort((a, b) => (partNumber(a) ?? 0) - (partNumber(b) ?? 0));
}

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

function needS3(opts: ReadOptions): S3Client {
  if (!opts.s3) throw new Error('reading an s3:// recording needs an S3 client (opts.s3)');
  return opts.s3;
}
