// Terminal escape sequences in typed input (arrows, function keys, bracketed
// paste marks) for the line editors that do not act on them: skipped whole.
export class EscapeSkipper {
  private state: 'none' | 'esc' | 'csi' = 'none';

  /** True when `ch` belongs to an escape sequence (and is to be skipped). */
  skip(ch: string): boolean {
    if (this.state === 'esc') {
      this.state = ch === '[' || ch === 'O' ? 'csi' : 'none';
      return true;
    }
    if (this.state === 'csi') {
      if (ch >= '@' && ch <= '~') this.state = 'none';
      return true;
    }
    if (ch === '\x1b') {
      this.state = 'esc';
      return true;
    }
    return false;
  }
}
