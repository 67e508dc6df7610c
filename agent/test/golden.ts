// Reads the golden vectors in test/golden/ that the agent's tests and
// pam-module's C tests share (format: test/golden/agent-protocol-v1.txt).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's test/golden directory. */
export const GOLDEN_DIR = fileURLToPath(new URL('../../test/golden/', import.meta.url));

export function goldenPath(name: string): string {
  return GOLDEN_DIR + name;
}

/** Expands \\ \t \r \n \xHH (one byte) and \[N]c (c, N times) into bytes. */
export function unescapeGolden(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out.push(...Buffer.from(s[i]!, 'utf8'));
      continue;
    }
    const c = s[++i];
    const rep = c === '[' ? /^\[(\d+)\](.)/su.exec(s.slice(i)) : null;
    if (rep) {
      out.push(...Buffer.from(rep[2]!.repeat(Number(rep[1])), 'utf8'));
      i += rep[0].length - 1;
    } else if (c === 'x' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '\\' || c === 't' || c === 'r' || c === 'n') {
      out.push({ '\\': 0x5c, t: 0x09, r: 0x0d, n: 0x0a }[c]);
    } else {
      throw new Error(`golden: unknown escape \\${c ?? ''} in ${s.slice(0, 60)}`);
    }
  }
  return Buffer.from(out);
}

export interface GoldenVector {
  /** 1-based line number in the file, for messages. */
  lineno: number;
  kind: string;
  /** The columns after the kind, escapes expanded, as `encoding` strings. */
  cols: string[];
}

/**
 * Every vector of a golden file (comments and empty lines skipped). With
 * latin1 (the default) each char of a column is one byte, as protocol lines need.
 */
export function readGolden(name: string, encoding: 'latin1' | 'utf8' = 'latin1'): GoldenVector[] {
  const out: GoldenVector[] = [];
  readFileSync(goldenPath(name), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line === '' || line.startsWith('#')) return;
      const [kind, ...cols] = line.split('\t');
      out.push({ lineno: i + 1, kind: kind!, cols: cols.map((c) => unescapeGolden(c).toString(encoding)) });
    });
  return out;
}
