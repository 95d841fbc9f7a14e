import { maxMetricLineBytes, noMetricLine, readMetricLine, type MetricParse } from './parse-metric.js';

const newline = 0x0a;

/**
 * Reads the metric from output as it streams, with the rules of parseMetric: the first line that
 * is a `<name>: <value>` line decides, however much output comes before or after it. Memory stays
 * under maxMetricLineBytes whatever the output: only a line that starts with `<name>:` is kept,
 * and one longer than the cap cannot be a metric line. Lines that cannot match are skipped by a
 * native search for "\n<name>:", so 50 MB of chatter costs milliseconds, not a loop per line.
 */
export class MetricScanner {
  private readonly prefix: Buffer;
  private readonly needle: Buffer;
  private state: 'line-start' | 'candidate' | 'skip' = 'line-start';
  private line: Buffer[] = [];
  private lineBytes = 0;
  private found: MetricParse | null = null;
  private seen = 0;

  constructor(private readonly name: string) {
    this.prefix = Buffer.from(`${name}:`);
    this.needle = Buffer.from(`\n${name}:`);
  }

  /** Bytes pushed so far. */
  get bytesSeen(): number {
    return this.seen;
  }

  /** Bytes held for the line being read; never more than maxMetricLineBytes. */
  get bytesHeld(): number {
    return this.lineBytes;
  }

  push(chunk: Buffer): void {
    this.seen += chunk.length;
    let pos = 0;
    while (pos < chunk.length && this.found === null) {
      // Inside a chunk, a line start is found by the search below from the newline before it;
      // only the first line of a chunk is compared byte by byte.
      if (this.state === 'line-start' && pos > 0) {
        this.state = 'skip';
        pos -= 1;
      }
      if (this.state === 'skip') {
        const next = chunk.indexOf(this.needle, pos);
        // "\n<name>:" may be cut by the chunk's end: the last line is read as a candidate.
        const lineStart = next !== -1 ? next + 1 : chunk.lastIndexOf(newline) + 1;
        if (lineStart <= pos) return;
        pos = lineStart;
      }
      this.state = 'candidate';
      const end = chunk.indexOf(newline, pos);
      this.collect(chunk.subarray(pos, end === -1 ? chunk.length : end));
      if (end === -1) return;
      pos = end + 1;
      this.endLine();
    }
  }

  /** The metric, once the output has ended. */
  finish(): MetricParse {
    if (this.found === null && this.state === 'candidate') this.endLine();
    return this.found ?? noMetricLine(this.name);
  }

  private collect(bytes: Buffer): void {
    if (this.state !== 'candidate' || bytes.length === 0) return;
    const held = this.lineBytes;
    this.lineBytes += bytes.length;
    if (this.lineBytes > maxMetricLineBytes) {
      this.drop();
      return;
    }
    // Compare the start of the line with "<name>:" as soon as its bytes arrive.
    if (held < this.prefix.length) {
      const upTo = Math.min(this.prefix.length, this.lineBytes) - held;
      if (!bytes.subarray(0, upTo).equals(this.prefix.subarray(held, held + upTo))) {
        this.drop();
        return;
      }
    }
    this.line.push(bytes);
  }

  /** Not a metric line: the rest of it is skipped unread. */
  private drop(): void {
    this.line = [];
    this.lineBytes = 0;
    this.state = 'skip';
  }

  private endLine(): void {
    if (this.state === 'candidate' && this.lineBytes > 0) {
      this.found = readMetricLine(Buffer.concat(this.line).toString('utf8'), this.name);
    }
    this.line = [];
    this.lineBytes = 0;
    this.state = 'line-start';
  }
}
