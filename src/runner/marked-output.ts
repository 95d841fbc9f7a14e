/**
 * One command's output from a pipe that outlives it: a kept sandbox's shell (decisions 73) runs
 * command after command on the same descriptors, and once a command and everything it started
 * are dead it writes `mark` to each of them. The mark is crucible's, new for each experiment, and
 * sent where no command can read it, so no command can print it: what comes before it is the
 * command's, all of it. Bytes that could be the start of the mark are held back until the next
 * chunk says whether they are.
 */
export class MarkedOutput {
  private held: Buffer = Buffer.alloc(0);
  private marked = false;
  private after = false;

  constructor(
    private readonly mark: Buffer,
    private readonly emit: (chunk: Buffer) => void,
  ) {}

  /** True once the mark has come: the command's output is complete. */
  get done(): boolean {
    return this.marked;
  }

  /** True when anything came after the mark: nothing should have (the sandbox is not kept). */
  get overrun(): boolean {
    return this.after;
  }

  push(chunk: Buffer): void {
    if (this.marked) {
      if (chunk.length > 0) this.after = true;
      return;
    }
    const data = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    if (data.length >= this.mark.length && data.subarray(data.length - this.mark.length).equals(this.mark)) {
      this.held = Buffer.alloc(0);
      this.marked = true;
      if (data.length > this.mark.length) this.emit(data.subarray(0, data.length - this.mark.length));
      return;
    }
    const keep = this.partialMarkAtEnd(data);
    this.held = Buffer.from(data.subarray(data.length - keep));
    if (data.length > keep) this.emit(data.subarray(0, data.length - keep));
  }

  /** Gives out what was held back: the stream ended without its mark (the sandbox ended first). */
  flush(): void {
    if (this.held.length > 0) this.emit(this.held);
    this.held = Buffer.alloc(0);
  }

  /** The length of the longest end of `data` that is a start of the mark (shorter than the mark). */
  private partialMarkAtEnd(data: Buffer): number {
    for (let n = Math.min(this.mark.length - 1, data.length); n > 0; n--) {
      if (data.subarray(data.length - n).equals(this.mark.subarray(0, n))) return n;
    }
    return 0;
  }
}
