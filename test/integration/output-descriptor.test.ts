import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { descriptorWriter } from '../../src/cli/output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'crucible-output-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Reads what is in the FIFO now, without waiting. */
function drain(fd: number): Buffer {
  const chunks: Buffer[] = [];
  const chunk = Buffer.alloc(1 << 16);
  for (;;) {
    try {
      const got = readSync(fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      chunks.push(Buffer.from(chunk.subarray(0, got)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw error;
    }
  }
  return Buffer.concat(chunks);
}

describe('data written through the stdout descriptor', () => {
  it('arrives whole and in order when the descriptor is non-blocking and full: the rest goes through the stream', async () => {
    const fifo = path.join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    let stream: Socket | null = null;
    const write = descriptorWriter(writer, () => (stream ??= new Socket({ fd: writer, readable: false, writable: true })));
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(60)}\n`);
    for (const line of lines) write(line); // 200 KB: a pipe holds 64 KB, so a write meets EAGAIN
    expect(stream).not.toBeNull();

    const received: Buffer[] = [];
    const expected = Buffer.byteLength(lines.join(''));
    let total = 0;
    for (let round = 0; round < 500 && total < expected; round++) {
      const got = drain(reader);
      received.push(got);
      total += got.length;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    stream!.destroy();
    closeSync(reader);
    expect(Buffer.concat(received).toString('utf8')).toBe(lines.join(''));
  });

  it('ends quietly when the reader has gone (EPIPE), as `crucible history --json | head` needs', () => {
    const fifo = path.join(dir, 'gone');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader);
    let streamBuilt = false;
    const write = descriptorWriter(writer, () => {
      streamBuilt = true;
      throw new Error('no stream should be needed');
    });
    expect(() => {
      write('first\n');
      write('second\n');
    }).not.toThrow();
    expect(streamBuilt).toBe(false);
    closeSync(writer);
  });
});

