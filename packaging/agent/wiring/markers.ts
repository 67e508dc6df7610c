// The lines jmp adds to a PAM service file sit between these two comment
// lines, so they can be found and removed again without touching the rest.
export const BEGIN = '# >>> jmp-agent: added by the jmp-agent package, removed with it';
export const END = '# <<< jmp-agent';

/** Wraps lines in the markers (each line ends in \n). */
export function block(lines: string[]): string {
  return [BEGIN, ...lines, END].map((l) => `${l}\n`).join('');
}

/** The text without any jmp block (markers included); a block left open runs to the end. */
export function stripBlocks(text: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of splitKeepingEnds(text)) {
    const bare = line.replace(/\r?\n$/, '');
    if (!inside && bare === BEGIN) inside = true;
    else if (inside && bare === END) inside = false;
    else if (!inside) out.push(line);
  }
  return out.join('');
}

export function hasBlock(text: string): boolean {
  return splitKeepingEnds(text).some((l) => l.replace(/\r?\n$/, '') === BEGIN);
}

/** Lines with their line ends, so joining them gives back the exact bytes. */
export function splitKeepingEnds(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
