import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { StorageError, storageErrorFrom } from '../errors.js';

/**
 * A line-oriented file that is only ever appended to: results.tsv and ledger.jsonl.
 *
 * Every line is written with ONE write(2) on an O_APPEND descriptor, so two processes appending to
 * the same file cannot interleave inside a line, and a crash can at worst leave the last line
 * without its "\n" (a torn write). Opening reads the file once and cuts such a tail away.
 */
export interface AppendOnlyFile {
  readonly path: string;
  /** The complete lines present at open (every one ends with "\n"), decoded as UTF-8. */
  readonly text: string;
  /** The torn last line cut away at open, or null when the file ended cleanly. */
  readonly torn: string | null;
  /** Appends `line` plus "\n" in a single write. `line` must not contain "\n". */
  appendLine(line: string): void;
  /** Flushes appended data to the disk (fdatasync). */
  sync(): void;
  close(): void;
}

const NEWLINE = 0x0a;
// A concurrent appender can change the size between our read and our truncate; re-read a few
// times before giving up on the repair (the next append then starts on a fresh line anyway).
const REPAIR_ATTEMPTS = 5;

export function openAppendOnlyFile(path: string, options: { repair?: boolean } = {}): AppendOnlyFile {
  const repair = options.repair ?? true;
  const fd = withPath(path, 'cannot open', () => openSync(path, 'a+'));
  let text = '';
  let torn: string | null = null;
  try {
    for (let attempt = 0; attempt < REPAIR_ATTEMPTS; attempt += 1) {
      const bytes = readWhole(fd);
      const cut = bytes.lastIndexOf(NEWLINE) + 1;
      text = bytes.subarray(0, cut).toString('utf8');
      torn = cut < bytes.length ? bytes.subarray(cut).toString('utf8') : null;
      if (torn === null || !repair) break;
      // Only truncate when nobody appended since we read: their line would be cut off too.
      if (fstatSync(fd).size === bytes.length) {
        ftruncateSync(fd, cut);
        break;
      }
    }
  } catch (error) {
    closeSync(fd);
    throw storageErrorFrom(error, path) ?? error;
  }

  let closed = false;
  const checkOpen = (): void => {
    if (closed) throw new Error(`${path} is already closed`);
  };

  return {
    path,
    text,
    torn,
    appendLine(line: string): void {
      checkOpen();
      if (line.includes('\n')) throw new Error(`a line for ${path} contains a newline`);
      // Another process may have died mid-line since we last looked: start on a fresh line so our
      // record is never glued to its fragment (the fragment then reads as one bad line).
      const prefix = endsWithNewline(fd) ? '' : '\n';
      const buffer = Buffer.from(`${prefix}${line}\n`, 'utf8');
      withPath(path, 'cannot write', () => {
        const written = writeSync(fd, buffer);
        if (written === buffer.length) return;
        // A short write is a full disk or a size limit that the next write names (it fails with
        // that errno); should it succeed, the line is whole after all.
        const rest = writeSync(fd, buffer, written);
        if (written + rest !== buffer.length) throw new StorageError('ENOSPC', path, 'cannot write');
      });
    },
    sync(): void {
      checkOpen();
      withPath(path, 'cannot write', () => fdatasyncSync(fd));
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** Runs `action`; an error the machine gave (disk full, read-only...) gets the file's name, which a descriptor call lacks. */
function withPath<T>(path: string, verb: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw storageErrorFrom(error, path, verb) ?? error;
  }
}

function readWhole(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let offset = 0;
  while (offset < size) {
    const read = readSync(fd, buffer, offset, size - offset, offset);
    if (read === 0) break;
    offset += read;
  }
  return buffer.subarray(0, offset);
}

function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === NEWLINE;
}
