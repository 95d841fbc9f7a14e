import { closeSync, openSync, writeSync } from 'node:fs';
import { createInFolder } from '../create-in-folder.js';

const truncatedLine = '\n[output truncated]\n';

/**
 * Appends a command's output to a log file as it arrives, up to `maxBytes`, then writes one
 * "[output truncated]" line and drops the rest. Writes are synchronous on purpose: an
 * asynchronous stream would queue in memory whenever the command prints faster than the disk.
 */
export class LogSink {
  private fd: number | null;
  private written = 0;
  private truncated = false;

  constructor(
    logPath: string,
    private readonly maxBytes: number,
  ) {
    this.fd = createInFolder(logPath, () => openSync(logPath, 'a'));
  }

  write(chunk: Buffer): void {
    if (this.fd === null || this.truncated) return;
    const room = this.maxBytes - this.written;
    try {
      if (chunk.length <= room) {
        writeSync(this.fd, chunk);
        this.written += chunk.length;
        return;
      }
      if (room > 0) writeSync(this.fd, chunk.subarray(0, room));
      writeSync(this.fd, truncatedLine);
      this.written = this.maxBytes;
      this.truncated = true;
    } catch {
      // A full disk must not turn a finished experiment into a crucible failure: stop logging.
      this.close();
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Already closed or never usable; nothing left to flush with synchronous writes.
    }
    this.fd = null;
  }
}
