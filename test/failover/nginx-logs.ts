// Reads the access logs of packaging/nginx/nginx.conf (formats jmp_http and
// jmp_ssh): which instance served what, and with which status.
import { existsSync, readFileSync } from 'node:fs';

export interface HttpLogLine {
  method: string;
  path: string;
  status: number;
  upstreams: string[];
}
export interface StreamLogLine {
  status: number;
  upstreams: string[];
  sessionSeconds: number;
}

const HTTP_LINE = /"(\S+) (\S+) [^"]*" (\d{3}) \d+ upstream=(.*?) upstream_status=/;
const STREAM_LINE = / (\d{3}) (.*?) sent=\d+ received=\d+ session=([\d.]+)/;

/** "127.0.0.1:1, 127.0.0.1:2" (tried in that order) → both; " : " joins internal redirects; "-" → none. */
const upstreamList = (s: string) =>
  s
    .split(/\s*,\s*|\s+:\s+/)
    .map((x) => x.trim())
    .filter((x) => x && x !== '-');

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export function readHttpLog(file: string): HttpLogLine[] {
  return lines(file).map((l) => {
    const m = HTTP_LINE.exec(l);
    if (!m) throw new Error(`unexpected nginx access log line: ${l}`);
    return { method: m[1]!, path: m[2]!, status: Number(m[3]), upstreams: upstreamList(m[4]!) };
  });
}

export function readStreamLog(file: string): StreamLogLine[] {
  return lines(file).map((l) => {
    const m = STREAM_LINE.exec(l);
    if (!m) throw new Error(`unexpected nginx stream log line: ${l}`);
    return { status: Number(m[1]), upstreams: upstreamList(m[2]!), sessionSeconds: Number(m[3]) };
  });
}

/** How many requests or connections each instance finally served. */
export function servedBy(entries: Array<{ upstreams: string[] }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    const last = e.upstreams.at(-1);
    if (last) out[last] = (out[last] ?? 0) + 1;
  }
  return out;
}
