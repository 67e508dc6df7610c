// Recordings in S3 (or any S3-compatible store). An object cannot be appended
// to, so each part is streamed as a multipart upload in pieces of
// `uploadPartBytes` (≥ 5 MiB, S3's minimum; the last piece may be smaller). A
// part smaller than one piece is sent with a single PutObject at the end.
//
// The 1-second promise: every flush is first appended and fsynced to a local
// spool file `<spoolDir>/<date>/<session>.part-NNNN.cast.gz` (the same key as in
// S3); pieces are uploaded from that file in the background, and the file is
// deleted once the part is complete in S3. After a crash, or when S3 was down
// when a part ended, the spool still holds the part: recoverSpool() (call it at
// start, and periodically if you like — it skips parts this process is still
// writing) repairs each spooled part into a well-formed gzip (adding a
// `recording_interrupted` marker when it had been cut), uploads it and deletes
// the spool file. One spool directory per jmp-ssh process.
import { readdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { AppendFile } from './local-store.js';
import { repairPart } from './reader.js';
import { errorMessage, PART_RE, type PartSink, type RecordingStore, type StoreErrorReporter } from './store.js';

export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
const CONTENT_TYPE = 'application/gzip';
const UPLOAD_RETRY_MS = 5000;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix, e.g. `recordings/` (a trailing slash is added when missing). */
  prefix: string;
  spoolDir: string;
  /** Size of the multipart pieces (default 8 MiB, at least 5 MiB). */
  uploadPartBytes?: number;
  fsync?: boolean;
}

export interface S3ClientOptions {
  region: string;
  endpoint?: string | undefined;
  forcePathStyle?: boolean;
}

/** An S3 client with bounded retries and timeouts, so a dead endpoint fails in seconds, not minutes. Credentials: the default AWS chain. */
export function createS3Client(o: S3ClientOptions): S3Client {
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle ?? false,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 60_000 },
  });
}

export interface SpoolRecovery {
  /** URIs uploaded from the spool. */
  uploaded: string[];
  /** Spooled parts that were already complete in S3 (their spool file is removed). */
  alreadyStored: string[];
  /** Parts that are still in the spool (S3 failed); tried again next time. */
  failed: { uri: string; error: string }[];
}

export class S3Store implements RecordingStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly spoolDir: string;
  readonly uploadPartBytes: number;
  private readonly fsync: boolean;
  /** Keys this process is writing now; recoverSpool leaves them alone. */
  private readonly active = new Set<string>();

  constructor(o: S3StoreOptions) {
    this.client = o.client;
    this.bucket = o.bucket;
    this.prefix = o.prefix && !o.prefix.endsWith('/') ? `${o.prefix}/` : o.prefix;
    this.spoolDir = resolve(o.spoolDir);
    this.uploadPartBytes = Math.max(S3_MIN_PART_BYTES, o.uploadPartBytes ?? 8 * 1024 * 1024);
    this.fsync = o.fsync ?? true;
  }

  sessionUri(sessionKey: string): string {
    return `s3://${this.bucket}/${this.prefix}${sessionKey}`;
  }

  async openPart(partKey: string, report: StoreErrorReporter): Promise<PartSink> {
    let spool: AppendFile | null = null;
    try {
      spool = await AppendFile.create(join(this.spoolDir, partKey), this.fsync);
    } catch (err) {
      report(
        'recording_spool_failed',
        `cannot create spool file for ${partKey} (${errorMessage(err)}); this part is held in memory until it is uploaded, so a crash may lose it`,
      );
    }
    this.active.add(partKey);
    return new S3PartSink(this, this.prefix + partKey, spool, report, () => this.active.delete(partKey));
  }

  /** Uploads every spooled part not being written by this process; never throws. */
  async recoverSpool(): Promise<SpoolRecovery> {
    const out: SpoolRecovery = { uploaded: [], alreadyStored: [], failed: [] };
    let files: string[];
    try {
      files = await walk(this.spoolDir);
    } catch {
      return out;
    }
    for (const file of files) {
      const rel = relative(this.spoolDir, file).split(sep).join('/');
      if (!PART_RE.test(rel) || this.active.has(rel)) continue;
      const key = this.prefix + rel;
      const uri = `s3://${this.bucket}/${key}`;
      try {
        await this.abortUploads(key);
        if (await this.exists(key)) {
          out.alreadyStored.push(uri);
        } else {
          const body = await repairPart(await readFile(file));
          if (body) {
            await this.client.send(
              new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: CONTENT_TYPE }),
            );
            out.uploaded.push(uri);
          }
        }
        await unlink(file);
        await pruneEmptyDirs(file, this.spoolDir);
      } catch (err) {
        out.failed.push({ uri, error: errorMessage(err) });
      }
    }
    return out;
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }

  /** Multipart uploads a crashed process left open for `key` hold storage: abort them. */
  private async abortUploads(key: string): Promise<void> {
    let listed;
    try {
      listed = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: key }));
    } catch (err) {
      const e = err as { $metadata?: { httpStatusCode?: number } };
      if (e.$metadata?.httpStatusCode === 501 || e.$metadata?.httpStatusCode === 405) return; // not offered by this server
      throw err;
    }
    for (const u of listed.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: u.UploadId }))
        .catch(() => {});
    }
  }
}

/** The part bytes when no spool file could be made: kept in memory, dropped once uploaded. */
class MemoryLog {
  private chunks: Buffer[] = [];
  private base = 0; // offset of chunks[0]
  append(b: Buffer): void {
    this.chunks.push(b);
  }
  read(start: number, end: number): Buffer {
    const out = Buffer.alloc(end - start);
    let pos = this.base;
    for (const b of this.chunks) {
      const a = Math.max(start, pos),
        z = Math.min(end, pos + b.length);
      if (z > a) b.copy(out, a - start, a - pos, z - pos);
      pos += b.length;
    }
    return out;
  }
  release(upTo: number): void {
    while (this.chunks.length && this.base + this.chunks[0]!.length <= upTo) this.base += this.chunks.shift()!.length;
  }
}

class S3PartSink implements PartSink {
  private total = 0;
  private uploaded = 0;
  private uploadId: string | undefined;
  private readonly pieces: { PartNumber: number; ETag: string }[] = [];
  private uploading: Promise<void> | null = null;
  private retryAt = 0;
  private readonly memory: MemoryLog | null;
  private done = false;

  constructor(
    private readonly store: S3Store,
    private readonly key: string,
    private readonly spool: AppendFile | null,
    private readonly report: StoreErrorReporter,
    private readonly release: () => void,
  ) {
    this.memory = spool ? null : new MemoryLog();
  }

  get queuedBytes(): number {
    return this.spool ? this.spool.queuedBytes : 0;
  }

  async append(chunk: Buffer): Promise<void> {
    this.total += chunk.length;
    if (this.memory) this.memory.append(chunk);
    try {
      if (this.spool) await this.spool.append(chunk);
    } finally {
      this.maybeUpload();
    }
  }

  async complete(): Promise<void> {
    if (this.done) return;
    try {
      if (this.spool) await this.spool.append(Buffer.alloc(0)); // drain what is queued
      await this.uploading;
      const { client, bucket } = this.store;
      if (!this.uploadId) {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: this.key,
            Body: await this.read(0, this.total),
            ContentType: CONTENT_TYPE,
          }),
        );
      } else {
        if (this.total > this.uploaded || this.pieces.length === 0) await this.uploadPiece(this.total);
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: this.key,
            UploadId: this.uploadId,
            MultipartUpload: { Parts: this.pieces },
          }),
        );
      }
      this.done = true;
      this.release();
      await this.spool?.remove().catch(() => {});
    } catch (err) {
      // Keep the spool file: recoverSpool() will upload it. Drop the half-made multipart upload.
      this.done = true;
      this.release();
      if (this.uploadId) {
        await this.store.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.store.bucket, Key: this.key, UploadId: this.uploadId }))
          .catch(() => {});
      }
      await this.spool?.abandon();
      const where = this.spool
        ? `; it stays in the spool (${this.spool.path}) until recoverSpool() uploads it`
        : '; it had no spool file and is lost';
      throw new Error(`cannot store ${this.uri} (${errorMessage(err)})${where}`);
    }
  }

  /** Stores what there is (or leaves it in the spool), so bytes made durable so far are not lost. */
  async abandon(): Promise<void> {
    await this.complete().catch(() => {});
  }

  private get uri(): string {
    return `s3://${this.store.bucket}/${this.key}`;
  }

  private maybeUpload(): void {
    if (this.uploading || this.done || Date.now() < this.retryAt) return;
    if (this.total - this.uploaded < this.store.uploadPartBytes) return;
    this.uploading = (async () => {
      while (!this.done && this.total - this.uploaded >= this.store.uploadPartBytes) {
        await this.uploadPiece(this.uploaded + this.store.uploadPartBytes);
      }
    })()
      .catch((err: unknown) => {
        this.retryAt = Date.now() + UPLOAD_RETRY_MS;
        this.report(
          'recording_upload_failed',
          `upload of ${this.uri} failed (${errorMessage(err)}); the data is in the spool and is retried`,
        );
      })
      .finally(() => {
        this.uploading = null;
      });
  }

  private async uploadPiece(end: number): Promise<void> {
    const { client, bucket: Bucket } = this.store;
    if (!this.uploadId) {
      const r = await client.send(
        new CreateMultipartUploadCommand({ Bucket, Key: this.key, ContentType: CONTENT_TYPE }),
      );
      this.uploadId = r.UploadId;
    }
    const PartNumber = this.pieces.length + 1;
    const r = await client.send(
      new UploadPartCommand({
        Bucket,
        Key: this.key,
        UploadId: this.uploadId,
        PartNumber,
        Body: await this.read(this.uploaded, end),
      }),
    );
    this.pieces.push({ PartNumber, ETag: r.ETag ?? '' });
    this.uploaded = end;
    this.memory?.release(end);
  }

  private async read(start: number, end: number): Promise<Buffer> {
    return this.spool ? this.spool.read(start, end) : this.memory!.read(start, end);
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

async function pruneEmptyDirs(file: string, root: string): Promise<void> {
  let dir = resolve(file, '..');
  while (dir.startsWith(root + sep)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = resolve(dir, '..');
  }
}
