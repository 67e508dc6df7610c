// install: put jmp's lines into the targets, keeping pristine copies first.
// remove: put every file back byte for byte, or, where an administrator
// changed it since, take out only jmp's lines (and say so).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readImage, removeIfPresent, writeAtomic } from './files.js';
import { sha256, WiringState } from './manifest.js';
import { TARGETS, type Target } from './targets.js';

export interface WiringOptions {
  /** Prefix of every target path ('/' on a real host; a directory in tests). */
  root: string;
  /** Where the manifest and pristine copies live (absolute, not below root). */
  stateDir: string;
  /** visudo binary; null: no check (tests without sudo). */
  visudo: string | null;
  log: (line: string) => void;
}

const on = (o: WiringOptions, t: Target): string => join(o.root, t.path);

function checkSudoers(o: WiringOptions, file: string): void {
  if (!o.visudo) return;
  const r = spawnSync(o.visudo, ['-c', '-q', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file}: rejected by visudo -c: ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
}

/** Plans every change first, so a file that cannot be wired leaves all of them untouched. */
export function install(o: WiringOptions): void {
  const state = new WiringState(o.stateDir);
  const plan: Array<{ t: Target; path: string; before: Buffer | undefined; after: Buffer; mode: number; uid: number; gid: number }> = [];
  for (const t of TARGETS) {
    const path = on(o, t);
    const img = readImage(path);
    const entry = state.files[t.path];
    if (!img && !t.required && !entry) continue;
    const after = Buffer.from(t.wire(img?.content.toString('utf8')));
    plan.push({ t, path, before: img?.content, after, mode: img?.mode ?? t.createMode, uid: img?.uid ?? 0, gid: img?.gid ?? 0 });
  }
  for (const p of plan) {
    const entry = state.files[p.t.path];
    if (!entry) {
      // First install: the pristine copy, exactly as it is.
      if (p.before) state.keepOriginal(p.t.path, p.before);
      state.files[p.t.path] = { existed: p.before !== undefined, mode: p.mode, uid: p.uid, gid: p.gid, wrote: sha256(p.after) };
    } else if (p.before && sha256(p.before) !== entry.wrote && entry.existed) {
      // Changed by an administrator since jmp wrote it: their version is now the one to go back to.
      const theirs = p.t.unwire(p.before.toString('utf8'));
      if (theirs !== undefined) state.keepOriginal(p.t.path, Buffer.from(theirs));
      o.log(`${p.t.path}: changed since jmp wired it; keeping the changes`);
    }
    state.files[p.t.path]!.wrote = sha256(p.after);
  }
  state.save(); // before any file changes: a crash midway can still be undone
  for (const p of plan) {
    if (p.before?.equals(p.after)) {
      o.log(`${p.t.path}: already wired`);
      continue;
    }
    if (p.t.sudoers) {
      const staged = `${p.path}.jmp-check`;
      writeAtomic(staged, { content: p.after, mode: p.mode, uid: p.uid, gid: p.gid }, '.tmp');
      try {
        checkSudoers(o, staged);
      } finally {
        removeIfPresent(staged);
      }
    }
    writeAtomic(p.path, { content: p.after, mode: p.mode, uid: p.uid, gid: p.gid });
    if (p.t.sudoers && o.root === '/') {
      try {
        checkSudoers(o, '/etc/sudoers'); // the whole configuration, includes and all
      } catch (err) {
        removeIfPresent(p.path);
        throw err;
      }
    }
    o.log(`${p.t.path}: ${p.before ? 'wired' : 'created'}`);
  }
}

export function remove(o: WiringOptions): void {
  const state = new WiringState(o.stateDir);
  for (const t of TARGETS) {
    const entry = state.files[t.path];
    if (!entry) continue;
    const path = on(o, t);
    const img = readImage(path);
    if (!img) {
      o.log(`${t.path}: gone already; left as is`);
      continue;
    }
    if (sha256(img.content) === entry.wrote) {
      const orig = entry.existed ? state.original(t.path) : undefined;
      if (entry.existed && !orig) throw new Error(`${t.path}: the pristine copy in ${o.stateDir}/orig is missing; remove jmp's lines by hand`);
      if (orig) writeAtomic(path, { content: orig, mode: entry.mode, uid: entry.uid, gid: entry.gid });
      else removeIfPresent(path);
      o.log(`${t.path}: ${orig ? 'restored' : 'removed'}`);
      continue;
    }
    const rest = t.unwire(img.content.toString('utf8'));
    if (rest === undefined) {
      removeIfPresent(path);
      o.log(`${t.path}: changed since install; removed anyway (the whole file is jmp's)`);
    } else {
      writeAtomic(path, { ...img, content: Buffer.from(rest) });
      o.log(`${t.path}: changed since install; removed only jmp's lines, kept the rest`);
    }
  }
  state.clear();
}
