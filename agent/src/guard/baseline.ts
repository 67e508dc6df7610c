// The guarded files as they should be: recorded by `jmp-agent baseline` at
// install time (the install scripts run it after wiring PAM, NSS and
// sudoers), or else taken when the daemon starts.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { GuardedFile } from '../config.js';
import { writeFileAtomic } from '../persist/atomic.js';

export interface FileImage {
  /** null: the file does not exist. */
  content: Buffer | null;
  mode: number | null;
}

const BaselineFile = z.object({
  version: z.literal(1),
  recordedAt: z.string(),
  files: z.array(z.object({ path: z.string(), content: z.string().nullable(), mode: z.number().nullable() })),
});

export function readImage(path: string): FileImage {
  try {
    const st = statSync(path);
    return { content: readFileSync(path), mode: st.mode & 0o7777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { content: null, mode: null };
    throw err;
  }
}

/** Records the current state of every guarded file as the baseline (0600: a file may hold secrets). */
export function recordBaseline(path: string, files: readonly GuardedFile[]): Map<string, FileImage> {
  const images = new Map(files.map((f) => [f.path, readImage(f.path)]));
  const out = {
    version: 1 as const,
    recordedAt: new Date().toISOString(),
    files: [...images].map(([p, img]) => ({
      path: p,
      content: img.content?.toString('base64') ?? null,
      mode: img.mode,
    })),
  };
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileAtomic(path, JSON.stringify(out, null, 2) + '\n', 0o600);
  return images;
}

/** The install-time baseline, or null when none was recorded. */
export function loadBaseline(path: string): Map<string, FileImage> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const b = BaselineFile.parse(JSON.parse(text));
  return new Map(
    b.files.map((f) => [
      f.path,
      { content: f.content === null ? null : Buffer.from(f.content, 'base64'), mode: f.mode },
    ]),
  );
}
