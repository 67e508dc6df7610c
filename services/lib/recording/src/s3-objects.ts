// Plain object operations on an S3 bucket (list, head, ranged get, delete,
// copy, streamed upload), for stores other than recordings (jmp-sftp's
// staging area). The AWS SDK stays behind @jmp/recording: callers see only
// keys, sizes and bytes.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3_MIN_PART_BYTES } from './s3-store.js';

export interface ObjectInfo {
  key: string;
  size: number;
  modified: Date;
}

export interface ObjectListing {
  objects: ObjectInfo[];
  /** Common prefixes (with their trailing delimiter) when a delimiter was given. */
  prefixes: string[];
}

/** A streamed upload: bytes in order, the object appears at `finish()` (and never, after `abort()`). */
export interface ObjectUpload {
  write(chunk: Buffer): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

const statusOf = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
const isNotFound = (err: unknown) =>
  statusOf(err) === 404 || ['NotFound', 'NoSuchKey'].includes((err as { name?: string }).name ?? '');

export class S3Objects {
  readonly partBytes: number;
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    /** Size of the multipart pieces of an upload (at least 5 MiB). */
    partBytes = 8 * 1024 * 1024,
  ) {
    this.partBytes = Math.max(S3_MIN_PART_BYTES, partBytes);
  }

  /** Every object under `prefix` (all pages); with a delimiter, one level and its sub-prefixes. */
  async list(prefix: string, delimiter?: string, max = Infinity): Promise<ObjectListing> {
    const out: ObjectListing = { objects: [], prefixes: [] };
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(delimiter ? { Delimiter: delimiter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
          ...(Number.isFinite(max) ? { MaxKeys: Math.min(1000, max) } : {}),
        }),
      );
      for (const o of r.Contents ?? [])
        if (o.Key) out.objects.push({ key: o.Key, size: o.Size ?? 0, modified: o.LastModified ?? new Date(0) });
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.prefixes.push(p.Prefix);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token && out.objects.length + out.prefixes.length < max);
    return out;
  }

  /** The object's size and age, or null when there is none. */
  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: r.ContentLength ?? 0, modified: r.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Bytes [start, end) of the object (fewer at its end). */
  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    const r = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }),
    );
    return Buffer.from((await r.Body?.transformToByteArray()) ?? []);
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async copy(from: string, to: string): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`,
      }),
    );
  }

  /**
   * A streamed upload: pieces of `partBytes` go up as they fill (a write waits
   * while its piece uploads, so memory stays near one piece); a small object
   * is one PutObject at `finish()`.
   */
  upload(key: string): ObjectUpload {
    const { client, bucket: Bucket } = this;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string }[] = [];
    let chain: Promise<void> = Promise.resolve();
    const take = () => {
      const body = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      return body;
    };
    const sendPart = async (Body: Buffer) => {
      uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket, Key: key }))).UploadId;
      const PartNumber = parts.length + 1;
      const r = await client.send(new UploadPartCommand({ Bucket, Key: key, UploadId: uploadId, PartNumber, Body }));
      parts.push({ PartNumber, ETag: r.ETag ?? '' });
    };
    return {
      write: (chunk) => {
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes < this.partBytes) return chain;
        const body = take();
        chain = chain.then(() => sendPart(body));
        return chain;
      },
      finish: async () => {
        await chain;
        const body = take();
        if (!uploadId) return void (await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body })));
        if (body.length > 0) await sendPart(body);
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      },
      abort: async () => {
        pending = [];
        await chain.catch(() => {});
        if (uploadId)
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId })).catch(() => {});
      },
    };
  }
}
