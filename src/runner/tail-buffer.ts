/**
 * Keeps only the last `limit` bytes written to it, so a command printing gigabytes costs at most
 * `limit` plus one chunk of memory.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    // Drop whole chunks from the front while the rest still covers the limit.
    let first = this.chunks[0];
    while (first !== undefined && this.size - first.length >= this.limit) {
      this.chunks.shift();
      this.size -= first.length;
      this.dropped = true;
      first = this.chunks[0];
    }
  }

  /** The kept bytes as text; a character cut in half at the start is left out, not garbled. */
  toString(): string {
    let bytes = Buffer.concat(this.chunks);
    if (bytes.length > this.limit) {
      bytes = bytes.subarray(bytes.length - this.limit);
      this.dropped = true;
    }
    if (this.dropped) {
      // UTF-8 continuation bytes are 10xxxxxx: skip up to three of them to reach a character start.
      let start = 0;
      while (start < 3 && start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start += 1;
      bytes = bytes.subarray(start);
    }
    return bytes.toString('utf8');
  }
}
