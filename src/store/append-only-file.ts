import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError, storageErrorFrom } from '../errors.js';
import { replaceFile } from './replace-file.js';

/**
 * A line-oriented file that is only ever appended to: results.tsv and ledger.jsonl.
 *
 * Every line is written with ONE write(2) on an O_APPEND descriptor, so two processes appending to
 * the same file cannot interleave inside a line, and a crash can at worst leave the last line
 * without its "\n" (a torn write). Opening reads the file once and cuts such a tail away.
 */
export interface AppendOnlyFile {
  readonly path: string;
  /**
   * The complete lines present at open (every one ends with "\n"), decoded as UTF-8: given once,
   * then '' (the handle does not keep a long run's file in memory for its whole life).
   */
  takeText(): string;
  /** The torn last line cut away at open, or null when the file ended cleanly. */
  readonly torn: string | null;
  /** Appends `line` plus "\n" in a single write. `line` must not contain "\n". */
  appendLine(line: string): void;
  /** Flushes appended data to the disk (fdatasync); nothing to do when nothing was appended since the last flush. */
  sync(): void;
  /**
   * Whether the file at `path` is still the one this handle writes, exactly as it left it: not
   * deleted, replaced, truncated, appended to or rewritten by anyone else since (size and ctime).
   */
  intact(): boolean;
  /** The file's length as this handle left it (what `intact` compares). */
  size(): number;
  /** Replaces the file with `content` (whole lines) atomically, and appends there from now on. */
  replace(content: string): void;
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
  let current = fd;
  // The bytes we wrote (whatever else lands in the file is someone else's), and what the file
  // looked like after our last write (a rewrite in place changes its ctime).
  let ours = BigInt(fstatSync(current).size);
  let mark = identity(fstatSync(current, { bigint: true }));
  // Whether this handle's own last write ended the file: set by the first append (a file found
  // at open may be another process's, halfway through a line).
  let lineEnded = false;
  const remark = (): void => {
    const stats = fstatSync(current, { bigint: true });
    mark = stats.size === ours ? identity(stats) : 'changed';
  };

  // Whether this handle wrote since its last flush: a second flush with nothing new costs the
  // device a flush all the same. True at open, where a repair may have cut the file.
  let unflushed = true;
  let initialText: string | null = text;
  return {
    path,
    takeText(): string {
      const taken = initialText ?? '';
      initialText = null;
      return taken;
    },
    torn,
    appendLine(line: string): void {
      checkOpen();
      if (line.includes('\n')) throw new Error(`a line for ${path} contains a newline`);
      // Another process may have died mid-line since we last looked: start on a fresh line so our
      // record is never glued to its fragment (the fragment then reads as one bad line).
      const prefix = endsWithNewline(current, lineEnded ? mark : null) ? '' : '\n';
      const buffer = Buffer.from(`${prefix}${line}\n`, 'utf8');
      withPath(path, 'cannot write', () => {
        const written = writeSync(current, buffer);
        let total = written;
        if (written !== buffer.length) {
          // A short write is a full disk or a size limit that the next write names (it fails with
          // that errno); should it succeed, the line is whole after all.
          total += writeSync(current, buffer, written);
          if (total !== buffer.length) throw new StorageError('ENOSPC', path, 'cannot write');
        }
        ours += BigInt(total);
      });
      remark();
      lineEnded = true;
      unflushed = true;
    },
    sync(): void {
      checkOpen();
      if (!unflushed) return;
      withPath(path, 'cannot write', () => fdatasyncSync(current));
      unflushed = false;
    },
    intact(): boolean {
      checkOpen();
      try {
        return identity(statSync(path, { bigint: true })) === mark;
      } catch {
        return false;
      }
    },
    size(): number {
      return Number(ours);
    },
    replace(content: string): void {
      checkOpen();
      withPath(path, 'cannot write', () => {
        // The folder may be gone too (`rm -rf .crucible`).
        mkdirSync(dirname(path), { recursive: true });
        replaceFile(path, content, { sync: true });
        closeSync(current);
        current = openSync(path, 'a+');
      });
      ours = BigInt(Buffer.byteLength(content));
      remark();
      lineEnded = content === '' || content.endsWith('\n');
      // replaceFile flushed it.
      unflushed = false;
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeSync(current);
    },
  };
}

function identity(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.size}:${stats.ctimeNs}`;
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

/**
 * Whether the file ends a line. `mark`: how this handle left the file after writing a whole line
 * (null: not known); when it is still so, nobody has written since, and the last byte is that
 * line's newline: the byte need not be read.
 */
function endsWithNewline(fd: number, mark: string | null): boolean {
  const stats = fstatSync(fd, { bigint: true });
  if (identity(stats) === mark) return true;
  const size = Number(stats.size);
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === NEWLINE;
}
