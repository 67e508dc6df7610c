// Prompt learning: the shell's prompt is whatever stands left of the cursor
// when the person starts a line — PS1 at a fresh command, PS2 ("> ") when the
// shell reads on (continued lines, a here-doc), or a program's own prompt —
// learned again at the first key after every submission. The submitted
// command is the cursor's logical line without that prompt; a prompt seen at
// a submission is remembered and looked for again when the line's own prompt
// is not at its start (keys typed before the shell drew the next prompt).
// Pure: the screen is read through `screen`.
import type { CursorLine } from './line-tracker.js';

/** The part of the person's screen the learner reads (the guard's LineTracker). */
export interface PromptScreen {
  cursorLine(): CursorLine;
}

export class PromptLearner {
  /** Text left of the cursor when the person started this line; null: nothing typed since the last submission. */
  private prompt: string | null = null;
  /** The last prompt that was found again at a submission. */
  private lastPrompt = '';
  /** Target outputs seen, and their count at the last submission. */
  private outputs = 0;
  private outputsAtSubmit = 0;

  constructor(private readonly screen: PromptScreen) {}

  /** A prompt is known for the line being typed (the screen's line is a command line to keep). */
  get known(): boolean {
    return this.prompt !== null;
  }

  /** The target wrote output. */
  output(): void {
    this.outputs++;
  }

  /** The first key of a line: take the prompt from the screen. */
  learn(): void {
    // Before any output followed the last submission the screen still shows the old line.
    this.prompt = this.outputs > this.outputsAtSubmit || this.lastPrompt === '' ? this.screen.cursorLine().left : '';
  }

  /** The submitted command: the cursor's logical line without its prompt. */
  command(): string {
    const { text, left } = this.screen.cursorLine();
    const p = this.prompt;
    if (p && text.startsWith(p)) {
      this.lastPrompt = p;
      return text.slice(p.length).trim();
    }
    if (this.lastPrompt) {
      const at = text.indexOf(this.lastPrompt);
      if (at >= 0) return text.slice(at + this.lastPrompt.length).trim();
    }
    // Nothing typed since the last submission: a pager or program prompt, not a command.
    if (p === null) return text.slice(left.length).trim();
    return text.trim();
  }

  /** A line was submitted; `sameLine`: the next line comes under the same prompt (Ctrl-O). */
  submitted(sameLine: boolean): void {
    this.outputsAtSubmit = this.outputs;
    if (!sameLine) this.prompt = null;
  }

  /** The shell draws a fresh prompt (the guard discarded the command with Ctrl-C): learn it at the next key. */
  fresh(): void {
    this.prompt = null;
    this.outputsAtSubmit = this.outputs;
  }

  /** A full-screen program took the keys: the next line's prompt is learned anew. */
  forget(): void {
    this.prompt = null;
  }
}
