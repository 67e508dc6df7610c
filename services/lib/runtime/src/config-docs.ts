// A service's variables as `--help` lines and as the README's table, both
// rendered from the specs the service loads, so neither can disagree with
// what the process reads (scripts/config-docs.ts writes the README tables).
import type { ConfigEntry, ConfigSpec } from './config.js';

/** One documented variable: its name, its default (`value`) or what unset means (`text`), its meaning. */
export interface ConfigDoc {
  env: string;
  default: { value: string } | { text: string } | null;
  help: string;
}

/** The default of an entry: the schema's own default when it is a plain value, else the entry's words. */
export function describeEntry(entry: ConfigEntry): ConfigDoc {
  const parsed = entry.schema.safeParse(undefined);
  const derived = parsed.success ? plain(entry.env, parsed.data) : undefined;
  const given = entry.default ?? entry.unset;
  if (derived !== undefined && given !== undefined) {
    throw new Error(`${entry.env}: the schema's default is ${derived}; drop the spec's default/unset text`);
  }
  if (entry.default !== undefined && entry.unset !== undefined) {
    throw new Error(`${entry.env}: give default or unset, not both`);
  }
  if (entry.default !== undefined && !parsed.success) {
    throw new Error(`${entry.env}: has a default text but the schema requires a value`);
  }
  const def =
    derived !== undefined
      ? { value: derived }
      : entry.default !== undefined
        ? { value: entry.default }
        : entry.unset !== undefined
          ? { text: entry.unset }
          : parsed.success
            ? null
            : { text: 'required' };
  return { env: entry.env, default: def, help: entry.help };
}

/** A parsed default as people write it; undefined for "none" (unset, empty) or a value that needs words. */
function plain(env: string, v: unknown): string | undefined {
  if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && v !== null) return undefined; // e.g. a parsed host:port: the entry says it
  throw new Error(`${env}: cannot show a default of type ${typeof v}`);
}

/** Every variable of the specs, in order; a name twice is a mistake. */
export function configDocs(specs: readonly ConfigSpec[]): ConfigDoc[] {
  const docs = specs.flatMap((s) => Object.values(s).map(describeEntry));
  const seen = new Set<string>();
  for (const d of docs) {
    if (seen.has(d.env)) throw new Error(`${d.env} is documented twice`);
    seen.add(d.env);
  }
  return docs;
}

/** The `configuration (environment):` block of --help: name, meaning, default; wrapped at `width`. */
export function configHelp(specs: readonly ConfigSpec[], width = 100): string {
  const docs = configDocs(specs);
  const column = Math.min(36, Math.max(...docs.map((d) => d.env.length)) + 4);
  const lines: string[] = [];
  for (const d of docs) {
    // "(default: 8080)" is kept on one line; words about unset wrap like the rest.
    const words = d.help.split(/\s+/);
    if (d.default !== null && 'value' in d.default) words.push(`(default: ${d.default.value})`);
    else if (d.default !== null) words.push(...`(${d.default.text})`.split(/\s+/));
    const head = `  ${d.env}`;
    let line = head.length + 2 > column ? head : head.padEnd(column);
    if (line === head) {
      lines.push(line);
      line = ' '.repeat(column);
    }
    let empty = true;
    for (const w of words) {
      if (!empty && line.length + 1 + w.length > width) {
        lines.push(line);
        line = ' '.repeat(column);
        empty = true;
      }
      line += empty ? w : ` ${w}`;
      empty = false;
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

/** The README table: `| variable | default | meaning |`. */
export function configTable(specs: readonly ConfigSpec[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = configDocs(specs).map((d) => {
    const def = d.default === null ? '—' : 'value' in d.default ? `\`${d.default.value}\`` : d.default.text;
    return `| \`${d.env}\` | ${cell(def)} | ${cell(d.help)} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n') + '\n';
}

const block = (name: string) => ({ open: `<!-- config:${name} -->`, close: `<!-- /config:${name} -->` });

/** Replaces the text between `<!-- config:NAME -->` and `<!-- /config:NAME -->` with each table. */
export function writeConfigBlocks(text: string, tables: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [name, table] of Object.entries(tables)) {
    const { open, close } = block(name);
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start) throw new Error(`no ${open} … ${close} block`);
    out = `${out.slice(0, start + open.length)}\n${table}${out.slice(end)}`;
  }
  return out;
}

/** The table between a block's markers, as written. */
export function readConfigBlock(text: string, name: string): string | undefined {
  const { open, close } = block(name);
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  return start < 0 || end < start ? undefined : text.slice(start + open.length + 1, end);
}
