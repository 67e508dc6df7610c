// Answers an upgrade request with an HTTP error instead of a WebSocket:
// nothing of a refused request ever reaches guacd.
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';

export function refuse(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\nCache-Control: no-store\r\nConnection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** The jmp_session cookie of a request. */
export function sessionCookie(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === 'jmp_session') return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** A browser's Origin must be the Host it connects to (no other site opens desktops with the cookie). */
export function sameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true; // not a browser
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
