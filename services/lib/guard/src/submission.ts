// Which keys submit a line (Enter, Ctrl-O, a bracketed paste with a newline)
// and the lines a run of queued keys submits: the first is read from the
// screen (the target's echo), every later line of a paste or of keys typed
// ahead is rebuilt from the keys, as the shell will receive it. Pure.
import { RawLineEditor, type Key } from './keys.js';

/** Ctrl-O (operate-and-get-next): submits, and the next history line comes under the same prompt. */
export const CTRL_O = 0x0f;

/** One submitted line. screen: read from the echo; input: rebuilt from the keys. */
export interface SubmittedLine {
  line: string;
  source: 'screen' | 'input';
  /** A bracketed paste's last line, still in the shell's buffer (it is judged again at its Enter). */
  partial?: true;
}

export function isSubmission(k: Key): boolean {
  if (k.kind === 'enter') return true;
  if (k.kind === 'control') return k.code === CTRL_O;
  if (k.kind === 'paste') return /[\r\n]/u.test(k.text);
  return false;
}

/** The number of queued keys decided together: up to and including the last submission. */
export function submissionLength(keys: readonly Key[]): number {
  let last = 0;
  for (let i = 0; i < keys.length; i++) if (isSubmission(keys[i]!)) last = i;
  return last + 1;
}

/**
 * The lines submitted by `keys` (the first and the last are submissions). `first` is the
 * screen's command line at the first submission, or null when the target did not echo it.
 */
export function submittedLines(first: string | null, keys: readonly Key[]): SubmittedLine[] {
  const lines: SubmittedLine[] = [];
  const head = keys[0]!;
  let editor: RawLineEditor;
  if (head.kind === 'paste') {
    editor = new RawLineEditor(first ?? '');
    editor.apply(head);
    // The paste's first line completes the screen's line.
    editor.lines.forEach((l, i) => lines.push({ line: l, source: i === 0 && first !== null ? 'screen' : 'input' }));
    editor.lines.length = 0;
  } else {
    if (first !== null) lines.push({ line: first, source: 'screen' });
    editor = new RawLineEditor();
  }
  for (let i = 1; i < keys.length; i++) {
    editor.apply(keys[i]!);
    for (const l of editor.lines) lines.push({ line: l, source: 'input' });
    editor.lines.length = 0;
  }
  // A bracketed paste's last line stays in the shell's buffer: judge it as well (it is judged again on its Enter).
  const tail = keys[keys.length - 1]!;
  if (tail.kind === 'paste' && editor.text.trim() !== '') {
    lines.push({ line: editor.text, source: 'input', partial: true });
  }
  return lines;
}
