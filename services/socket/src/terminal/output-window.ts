// Back-pressure toward the page: output is sent with an ack that the page
// gives after writing the chunk to its terminal. Beyond `limit` unacked bytes
// the source (the ssh channel) is paused; it resumes once the page has caught
// up to half of it. A page that stops acking therefore costs at most the
// window here plus what ssh2 buffers before its own SSH window closes.
export class OutputWindow {
  private unacked = 0;
  private paused = false;

  constructor(
    private readonly limit: number,
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  /** Counts a chunk as sent; returns the ack for it (effective once). */
  sent(bytes: number): () => void {
    this.unacked += bytes;
    if (!this.paused && this.unacked >= this.limit) {
      this.paused = true;
      this.pause();
    }
    let acked = false;
    return () => {
      if (acked) return;
      acked = true;
      this.unacked -= bytes;
      if (this.paused && this.unacked <= this.limit / 2) {
        this.paused = false;
        this.resume();
      }
    };
  }

  get pending(): number {
    return this.unacked;
  }
  get isPaused(): boolean {
    return this.paused;
  }
}
