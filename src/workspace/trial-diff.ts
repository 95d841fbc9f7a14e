import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { diffHunks, unifiedDiff } from './unified-diff.js';

/**
 * The diff of a trial's files (the project before, the agent's worktree after), for diff.patch and
 * the prompts, at a bounded cost whatever the agent wrote: an agent that appended 100 MB of lines
 * to its file once made crucible run out of memory here. Only the part of a file between its first
 * and last differing lines is read into memory (the agreeing start and end are compared in chunks
 * straight from the files); when that part is too large the file gets a one-line summary instead.
 */
export interface TrialDiffLimits {
  /** Bytes of one side's differing part (with its context lines) that are diffed in memory. */
  maxPartBytes: number;
  /** Lines of one side's differing part. */
  maxPartLines: number;
  /** Bytes of the whole diff; the files past it are named with a summary line. */
  maxDiffBytes: number;
}

export const TRIAL_DIFF_LIMITS: TrialDiffLimits = {
  maxPartBytes: 1024 * 1024,
  maxPartLines: 50_000,
  maxDiffBytes: 4 * 1024 * 1024,
};

const CONTEXT = 3;
const CHUNK = 64 * 1024;
const BINARY_SNIFF_BYTES = 8192;

/**
 * The unified diff of `files` (paths relative to both sides) from `before` to `afterRoot`.
 * `before`: a folder, or each file's content as its commit holds it (null: not there).
 */
export function diffTrialFiles(files: readonly string[], before: string | ReadonlyMap<string, Buffer | null>, afterRoot: string, limits: Partial<TrialDiffLimits> = {}): string {
  const bounds = { ...TRIAL_DIFF_LIMITS, ...limits };
  let out = '';
  for (const file of files) {
    const source = typeof before === 'string' ? openFile(path.join(before, file)) : inMemory(before.get(file) ?? null);
    let part = diffFile(file, source, openFile(path.join(afterRoot, file)), bounds);
    if (out.length + part.length > bounds.maxDiffBytes) part = summary(file, `left out: the trial's diff is limited to ${formatBytes(bounds.maxDiffBytes)}`);
    out += part;
  }
  return out;
}

function diffFile(file: string, before: OpenFile | null, after: OpenFile | null, bounds: TrialDiffLimits): string {
  try {
    if (!before && !after) return '';
    if (isBinary(before) || isBinary(after)) {
      return `diff --git a/${file} b/${file}\nBinary files ${before ? `a/${file}` : '/dev/null'} and ${after ? `b/${file}` : '/dev/null'} differ\n`;
    }
    const span = before && after ? differingSpan(before, after) : { identical: false, start: 0, endBefore: before?.size ?? 0, endAfter: after?.size ?? 0, firstLine: 0 };
    if (span.identical) return '';
    if (span.endBefore - span.start > bounds.maxPartBytes || span.endAfter - span.start > bounds.maxPartBytes) return tooLarge(file, before, after, bounds);
    const textA = before ? readRange(before, span.start, span.endBefore).toString('utf8') : null;
    const textB = after ? readRange(after, span.start, span.endAfter).toString('utf8') : null;
    if (countLines(textA) > bounds.maxPartLines || countLines(textB) > bounds.maxPartLines) return tooLarge(file, before, after, bounds);
    if (textA === null || textB === null) return unifiedDiff(file, textA, textB, CONTEXT);
    const hunks = diffHunks(textA, textB, { context: CONTEXT, firstLine: span.firstLine });
    return `${[`diff --git a/${file} b/${file}`, `--- a/${file}`, `+++ b/${file}`, ...hunks].join('\n')}\n`;
  } finally {
    before?.close();
    after?.close();
  }
}

/** One side of a file's diff: a file on disk, or content held in memory. */
interface OpenFile {
  size: number;
  /** Reads up to `length` bytes at `position` into `buffer`; how many. */
  read(buffer: Buffer, offset: number, length: number, position: number): number;
  close(): void;
}

function inMemory(content: Buffer | null): OpenFile | null {
  if (content === null) return null;
  return {
    size: content.length,
    read: (buffer, offset, length, position) => content.copy(buffer, offset, position, Math.min(content.length, position + length)),
    close: () => undefined,
  };
}

function openFile(file: string): OpenFile | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  const info = fstatSync(fd);
  if (!info.isFile()) {
    closeSync(fd);
    return null;
  }
  return { size: info.size, read: (buffer, offset, length, position) => readSync(fd, buffer, offset, length, position), close: () => closeSync(fd) };
}

/**
 * Where two files stop agreeing, in whole lines, keeping CONTEXT agreeing lines on each side:
 * `start` (the same offset in both), the end of each file's differing part, and the number of
 * lines before `start`. Reads both files in chunks from each end; holds two chunks, no more.
 */
function differingSpan(a: OpenFile, b: OpenFile): { identical: boolean; start: number; endBefore: number; endAfter: number; firstLine: number } {
  const shorter = Math.min(a.size, b.size);
  const bufA = Buffer.allocUnsafe(CHUNK);
  const bufB = Buffer.allocUnsafe(CHUNK);

  // Forwards: the common start; its lines, and the offsets after its last CONTEXT + 1 newlines.
  let lines = 0;
  const lastBreaks: number[] = [];
  let common = 0;
  while (common < shorter) {
    const n = Math.min(CHUNK, shorter - common);
    readExactly(a, bufA, n, common);
    readExactly(b, bufB, n, common);
    let same = bufA.subarray(0, n).equals(bufB.subarray(0, n)) ? n : 0;
    while (same < n && bufA[same] === bufB[same]) same++;
    for (let i = bufA.indexOf(10); i !== -1 && i < same; i = bufA.indexOf(10, i + 1)) {
      lines++;
      lastBreaks.push(common + i + 1);
      if (lastBreaks.length > CONTEXT + 1) lastBreaks.shift();
    }
    common += same;
    if (same < n) break;
  }
  if (common === a.size && a.size === b.size) return { identical: true, start: 0, endBefore: 0, endAfter: 0, firstLine: 0 };
  const wholeLines = lastBreaks.at(-1) ?? 0;
  const start = lines > CONTEXT ? lastBreaks[0]! : 0;

  // Backwards: the common end, never reaching into the common start's lines. Distances of its
  // newlines from the files' end are kept, the CONTEXT + 1 farthest (nearest the difference).
  const room = shorter - wholeLines;
  let tail = 0;
  const farBreaks: number[] = [];
  while (tail < room) {
    const n = Math.min(CHUNK, room - tail);
    readExactly(a, bufA, n, a.size - tail - n);
    readExactly(b, bufB, n, b.size - tail - n);
    let same = bufA.subarray(0, n).equals(bufB.subarray(0, n)) ? n : 0;
    while (same < n && bufA[n - 1 - same] === bufB[n - 1 - same]) same++;
    for (let i = bufA.lastIndexOf(10, n - 1); i !== -1 && i >= n - same; i = i === 0 ? -1 : bufA.lastIndexOf(10, i - 1)) {
      farBreaks.push(tail + n - i);
      if (farBreaks.length > CONTEXT + 1) farBreaks.shift();
    }
    tail += same;
    if (same < n) break;
  }
  // The common end's whole lines start after its farthest newline; the CONTEXT lines after that
  // stay in the differing part. What follows them is left unread.
  const unread = farBreaks.length > CONTEXT ? farBreaks[0]! - 1 : 0;
  return { identical: false, start, endBefore: a.size - unread, endAfter: b.size - unread, firstLine: lines > CONTEXT ? lines - CONTEXT : 0 };
}

function readExactly(file: OpenFile, buffer: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = file.read(buffer, done, length - done, position + done);
    if (n === 0) throw new Error('file shrank while it was read');
    done += n;
  }
}

function readRange(file: OpenFile, from: number, to: number): Buffer {
  const buffer = Buffer.allocUnsafe(Math.max(0, to - from));
  readExactly(file, buffer, buffer.length, from);
  return buffer;
}

/** Git's rule: a NUL byte in the first 8 KB. */
function isBinary(file: OpenFile | null): boolean {
  return file !== null && readRange(file, 0, Math.min(file.size, BINARY_SNIFF_BYTES)).includes(0);
}

function countLines(text: string | null): number {
  if (text === null) return 0;
  let count = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

function tooLarge(file: string, before: OpenFile | null, after: OpenFile | null, bounds: TrialDiffLimits): string {
  const sizes = `${before ? formatBytes(before.size) : 'new'} → ${after ? formatBytes(after.size) : 'deleted'}`;
  return summary(
    file,
    `${sizes}; the change is too large to show (over ${formatBytes(bounds.maxPartBytes)} or ${bounds.maxPartLines} lines differ); the trial's commit holds it`,
  );
}

/** A file's entry without its lines; `compactDiff` keeps the "# " line for the prompts. */
function summary(file: string, why: string): string {
  return `diff --git a/${file} b/${file}\n--- a/${file}\n+++ b/${file}\n# ${file}: ${why}\n`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${bytes} bytes`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
}
