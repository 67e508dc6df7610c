// `jmp` after `files` for the passwd and group databases of nsswitch.conf.
// Only the word is inserted or removed; every other byte stays as it was.
import { splitKeepingEnds } from './markers.js';

const DATABASES = ['passwd', 'group'];
// The local source and its position: jmp must come after it, so a jmp user
// can never shadow a local account.
const LOCAL_SOURCE = /(?<=[:\s])(files|compat)(?=[\s#]|$)/;

export class NsswitchError extends Error {}

function database(line: string): string | undefined {
  return /^\s*([a-z_]+)\s*:/.exec(line)?.[1];
}

function sources(line: string): string[] {
  const body = line.slice(line.indexOf(':') + 1).split('#')[0]!;
  return body.trim().split(/\s+/).filter(Boolean);
}

/** Adds `jmp` after the local source on the passwd and group lines (idempotent). */
export function wireNsswitch(text: string, fileName: string): string {
  const seen = new Set<string>();
  const out = splitKeepingEnds(text).map((line) => {
    const db = database(line);
    if (!db || !DATABASES.includes(db)) return line;
    seen.add(db);
    if (sources(line).includes('jmp')) return line;
    const colon = line.indexOf(':');
    const m = LOCAL_SOURCE.exec(line.slice(colon));
    if (!m) throw new NsswitchError(`${fileName}: the ${db} line has no "files" source; add jmp after the local source by hand`);
    const at = colon + m.index + m[0].length;
    return `${line.slice(0, at)} jmp${line.slice(at)}`;
  });
  for (const db of DATABASES) if (!seen.has(db)) throw new NsswitchError(`${fileName}: no ${db} line`);
  return out.join('');
}

/** Removes the `jmp` source from the passwd and group lines. */
export function unwireNsswitch(text: string): string {
  return splitKeepingEnds(text).map((line) => {
    const db = database(line);
    if (!db || !DATABASES.includes(db)) return line;
    return line.replace(/[ \t]jmp(?=[\s#]|$)/, '');
  }).join('');
}
