import { zlib } from '../zlib.js';
import { detachStrings } from './detach-strings.js';

/** Text gathered before it is compressed as one chunk: a few dozen trials of ledger. */
const CHUNK_CHARS = 64 * 1024;

interface Chunk {
  /** The index of its first line. */
  first: number;
  lines: number;
  /** The lines, each followed by "\n", as UTF-8, deflated. */
  data: Buffer;
}

/**
 * Lines of text kept in memory compressed, in chunks: what a run holds of its ledger so that it
 * can put the file back when something else changed it. A ledger's JSON lines shrink about
 * eightfold, and a chunk is one object where its events were dozens: a long run's heap, which
 * every fork of crucible copies, no longer grows with them (decisions 58).
 */
export class CompressedLines {
  private readonly chunks: Chunk[] = [];
  private pending: string[] = [];
  private pendingChars = 0;
  private total = 0;

  /** The number of lines. */
  get count(): number {
    return this.total;
  }

  /** Adds one line (without its "\n"). */
  push(line: string): void {
    this.pending.push(line);
    this.pendingChars += line.length + 1;
    this.total += 1;
    if (this.pendingChars >= CHUNK_CHARS) this.seal();
  }

  /**
   * Makes the lines not yet compressed strings of their own. A line cut from a larger text (a file
   * read at open) is, in V8, a slice that keeps that whole text alive: call this once such lines
   * are pushed, or the store holds the file as well as its compressed copy (decisions 60).
   */
  copyPending(): void {
    this.pending = detachStrings(this.pending);
  }

  /** The lines from index `start` on, in order. */
  from(start: number): string[] {
    const lines: string[] = [];
    for (const chunk of this.chunks) {
      if (chunk.first + chunk.lines <= start) continue;
      const text = zlib().inflateRawSync(chunk.data).toString('utf8');
      const all = text.slice(0, -1).split('\n');
      lines.push(...all.slice(Math.max(0, start - chunk.first)));
    }
    const pendingFirst = this.total - this.pending.length;
    lines.push(...this.pending.slice(Math.max(0, start - pendingFirst)));
    return lines;
  }

  /** Every line, each followed by "\n". */
  text(): string {
    const parts = this.chunks.map((chunk) => zlib().inflateRawSync(chunk.data).toString('utf8'));
    if (this.pending.length > 0) parts.push(`${this.pending.join('\n')}\n`);
    return parts.join('');
  }

  private seal(): void {
    const text = `${this.pending.join('\n')}\n`;
    // Copied: zlib's output is a view of a larger buffer, which it would keep alive.
    const data = Buffer.from(zlib().deflateRawSync(text, { level: 1 }));
    this.chunks.push({ first: this.total - this.pending.length, lines: this.pending.length, data });
    this.pending = [];
    this.pendingChars = 0;
  }
}
