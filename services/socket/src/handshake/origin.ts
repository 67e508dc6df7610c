// The websocket's CSRF defence: a browser always names the page's origin in
// the handshake, and a foreign page cannot forge it. The cookie alone would
// let any site open a terminal in the person's name.

/** Why the origin is refused, or null when it is allowed. */
export function originRefusal(
  origin: string | undefined,
  host: string | undefined,
  allowed: string[] | undefined,
): string | null {
  if (!origin) return 'the handshake has no Origin header; open the terminal from the jmp web console';
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return `origin ${origin} is not a valid origin`;
  }
  if (allowed?.length)
    return allowed.includes(o.origin)
      ? null
      : `origin ${o.origin} is not allowed to open terminals (JMP_SOCKET_ORIGINS)`;
  // Without a list: the page must come from the host the handshake was sent to.
  return host && o.host === host.toLowerCase()
    ? null
    : `origin ${o.origin} does not match this server (${host ?? 'no Host header'}); set JMP_SOCKET_ORIGINS`;
}
