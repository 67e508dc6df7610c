// What the install scripts changed, kept in the state dir so removal can put
// every file back: a pristine copy of each file as it was before jmp touched
// it (orig/<path>), and the digest of what jmp wrote (to see whether an
// administrator changed the file since).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readImage, writeAtomic, type FileImage } from './files.js';

const Entry = z.object({
  /** The file existed before jmp: restore it; else delete it. */
  existed: z.boolean(),
  mode: z.number().int().min(0).max(0o7777),
  uid: z.number().int().min(0),
  gid: z.number().int().min(0),
  /** sha256 (hex) of the bytes jmp last wrote. */
  wrote: z.string().regex(/^[0-9a-f]{64}$/),
});
const Manifest = z.object({ version: z.literal(1), files: z.record(z.string(), Entry) });
export type ManifestEntry = z.infer<typeof Entry>;

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export class WiringState {
  private readonly file: string;
  private readonly origDir: string;
  readonly files: Record<string, ManifestEntry>;

  constructor(readonly dir: string) {
    this.file = join(dir, 'wiring.json');
    this.origDir = join(dir, 'orig');
    if (!existsSync(this.file)) {
      this.files = {};
      return;
    }
    const parsed = Manifest.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
    if (!parsed.success) throw new Error(`${this.file} is damaged (${parsed.error.issues[0]?.message}); restore it from a backup or remove jmp's lines by hand`);
    this.files = parsed.data.files;
  }

  /** The pristine copy of `path` (as named on the target system, e.g. /etc/pam.d/sshd). */
  original(path: string): Buffer | undefined {
    return readImage(join(this.origDir, path))?.content;
  }

  keepOriginal(path: string, content: Buffer): void {
    writeAtomic(join(this.origDir, path), { content, mode: 0o600, uid: 0, gid: 0 }, '.tmp');
  }

  save(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const body: z.infer<typeof Manifest> = { version: 1, files: this.files };
    writeAtomic(this.file, { content: Buffer.from(`${JSON.stringify(body, null, 2)}\n`), mode: 0o600, uid: 0, gid: 0 }, '.tmp');
  }

  /** Forgets everything (after a removal put every file back). */
  clear(): void {
    rmSync(this.origDir, { recursive: true, force: true });
    rmSync(this.file, { force: true });
  }
}

export function imageOf(img: FileImage | undefined, fallback: Omit<FileImage, 'content'>): Omit<FileImage, 'content'> {
  return img ? { mode: img.mode, uid: img.uid, gid: img.gid } : fallback;
}
