// The erase keys both line editors (the jump shell's, a database terminal's)
// share: Backspace drops the last character, Ctrl-U the whole line. Pure.

/** The line after an erase key and what erases it on screen; null for any other key. */
export function eraseKey(ch: string, line: string): { line: string; echo: string } | null {
  switch (ch) {
    case '\x7f':
    case '\b':
      return line ? { line: [...line].slice(0, -1).join(''), echo: '\b \b' } : { line, echo: '' };
    case '\x15': // Ctrl-U
      return { line: '', echo: '\b \b'.repeat([...line].length) };
    default:
      return null;
  }
}
