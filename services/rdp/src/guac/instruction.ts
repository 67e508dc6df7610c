// Guacamole protocol instructions the way jmp-rdp itself speaks to the page:
// `LENGTH.VALUE,…;` with lengths in Unicode code points.

export function encodeInstruction(elements: readonly string[]): string {
  return elements.map((e) => `${[...e].length}.${e}`).join(',') + ';';
}

/**
 * Parses exactly one complete instruction (the page's first message);
 * null when the text is not one.
 */
export function parseInstruction(text: string): string[] | null {
  const cps = [...text];
  const out: string[] = [];
  let i = 0;
  while (i < cps.length) {
    let n = '';
    while (i < cps.length && cps[i] !== '.') n += cps[i++];
    if (!/^\d{1,7}$/.test(n) || cps[i] !== '.') return null;
    const len = Number(n);
    const start = i + 1;
    if (start + len >= cps.length) return null;
    out.push(cps.slice(start, start + len).join(''));
    i = start + len;
    const t = cps[i];
    if (t === ';') return i === cps.length - 1 ? out : null;
    if (t !== ',') return null;
    i++;
  }
  return null;
}

/** Guacamole's status codes that jmp-rdp sends; the page's Guacamole.Client shows status.message. */
export const STATUS = {
  serverError: 0x0200,
  upstreamTimeout: 0x0202,
  upstreamError: 0x0203,
  upstreamUnavailable: 0x0208,
  sessionClosed: 0x020b,
  unauthorized: 0x0301,
  forbidden: 0x0303,
  clientTimeout: 0x0308,
  clientOverrun: 0x030d,
  clientTooMany: 0x031d,
} as const;

export const errorInstruction = (message: string, status: number) =>
  encodeInstruction(['error', message, String(status)]);
