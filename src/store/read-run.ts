import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Direction } from '../core/objective.js';
import { foldRun, READ_AFTER_END, type RunView } from './fold-run.js';
import { isLedgerEvent, type LedgerEvent } from './ledger.js';
import { endedTrial } from './read-event.js';
import { rowsOfView } from './result-row-of.js';
import { foldOnto, loadCheckpoint, type RunRecord } from './run-checkpoint.js';
import { runPaths } from './run-paths.js';

/**
 * The run `tag` as its ledger tells it, or null when it has no ledger (a run recorded only in
 * results.tsv: by the reference tool, or whose folder was deleted).
 */
export function readRunView(projectDir: string, tag: string, options: { direction?: Direction } = {}): RunView | null {
  const events = readLedgerForFold(runPaths(projectDir, tag).ledger);
  return events === null ? null : foldRun(events, options);
}

/**
 * The rows and the trials in flight of run `tag`, or null when it has no ledger. With a
 * checkpoint that matches the ledger, only the ledger after it is read; `view` is then null.
 * Without one (or when the ledger after it names a trial it had finished), or with `whole`, the
 * ledger is read whole and `view` is its fold.
 */
export function readRunRecord(projectDir: string, tag: string, options: { direction?: Direction; whole?: boolean } = {}): (RunRecord & { view: RunView | null }) | null {
  const paths = runPaths(projectDir, tag);
  const fd = openLedger(paths.ledger);
  if (fd === null) return null;
  try {
    const checkpoint = options.whole === true ? null : loadCheckpoint(paths.checkpoint, tag, fd, fstatSync(fd).size);
    if (checkpoint !== null) {
      const folded = foldOnto(tag, checkpoint.prefix, readEvents(fd, checkpoint.bytes));
      if (folded !== null) return { ...folded.record, view: null };
    }
    const view = foldRun(readEvents(fd, 0), options.direction ? { direction: options.direction } : {});
    return { rows: rowsOfView(tag, view), inFlight: view.inFlight, view };
  } finally {
    closeSync(fd);
  }
}

/**
 * A ledger's events as `foldRun` needs them, or null when the file does not exist. Most of a long
 * ledger is the steps of trials long finished, which the fold no longer reads: they are passed
 * over unparsed (told apart by the fixed prefix every event line starts with) and read only if
 * their trial turns out not to have ended. Reading a run then costs about its `trial.end`
 * records. Any other line is parsed and judged as `readLedger` does; a torn last line is not an
 * event yet. The file is read in chunks into one buffer: a 20 MB ledger never sits in memory whole.
 */
export function readLedgerForFold(file: string): LedgerEvent[] | null {
  const fd = openLedger(file);
  if (fd === null) return null;
  try {
    return readEvents(fd, 0);
  } finally {
    closeSync(fd);
  }
}

function openLedger(file: string): number | null {
  try {
    return openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

// Every line the ledger writes starts `{"v":1,"ts":"<24-character ISO time>","type":"<type>"`,
// then `,"n":<trial>` for a trial's event.
const HEAD = Buffer.from('{"v":1,"ts":"');
const TYPE = Buffer.from('","type":"');
const TYPE_AT = HEAD.length + 24 + TYPE.length;
const N = Buffer.from(',"n":');
const READ_ALWAYS = [...READ_AFTER_END].map((type) => Buffer.from(type));
const CHUNK = 1 << 20;

/** The events of the ledger from byte `from` (the start of a line) on. */
function readEvents(fd: number, from: number): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  const lineOf: number[] = []; // the line number of each event, to put late reads in their place
  const ended = new Set<number>();
  // The lines passed over, as [line, trial, offset, length] quadruples: in a typed array, which
  // the garbage collector does not copy about (a long ledger passes over a hundred thousand).
  let passed = new Float64Array(4096);
  let passedLength = 0;
  let line = 0;

  // A megabyte only for a file that needs it (64 KB at least, for one that grows as it is read).
  let buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1 << 16, fstatSync(fd).size - from + 1)));
  let filled = 0;
  let offset = from; // of buffer[0] in the file
  for (;;) {
    const got = readSync(fd, buffer, filled, buffer.length - filled, offset + filled);
    const size = filled + got;
    // Searched only up to what was read: a search past it walked (and faulted in) the rest of a
    // fresh megabyte, 4 ms of a short run's `status`.
    const read = buffer.subarray(0, size);
    let start = 0;
    for (let end = read.indexOf(10, start); end >= 0; start = end + 1, end = read.indexOf(10, start)) {
      const trial = passable(buffer, start, end);
      if (trial >= 0) {
        if (passedLength + 4 > passed.length) {
          const bigger = new Float64Array(passed.length * 2);
          bigger.set(passed);
          passed = bigger;
        }
        passed[passedLength++] = line;
        passed[passedLength++] = trial;
        passed[passedLength++] = offset + start;
        passed[passedLength++] = end - start;
      } else {
        const event = parseLine(buffer.toString('utf8', start, end));
        if (event !== null) {
          events.push(event);
          lineOf.push(line);
          const endOf = endedTrial(event);
          if (endOf !== null) ended.add(endOf);
        }
      }
      line += 1;
    }
    // What is left after the last "\n" waits for the next chunk; at the end of the file it is a
    // torn line, not an event.
    if (got === 0) break;
    if (start === 0 && size === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, size);
      buffer = bigger;
    } else {
      buffer.copy(buffer, 0, start, size);
    }
    offset += start;
    filled = size - start;
  }

  // The lines of trials that have not ended (a few, at the end of a healthy ledger), in their place.
  const late: Array<{ line: number; event: LedgerEvent }> = [];
  for (let i = 0; i < passedLength; i += 4) {
    if (ended.has(passed[i + 1]!)) continue;
    const bytes = Buffer.allocUnsafe(passed[i + 3]!);
    readSync(fd, bytes, 0, bytes.length, passed[i + 2]!);
    const event = parseLine(bytes.toString('utf8'));
    if (event !== null) late.push({ line: passed[i]!, event });
  }
  if (late.length === 0) return events;
  const merged: LedgerEvent[] = [];
  let next = 0;
  events.forEach((event, i) => {
    while (next < late.length && late[next]!.line < lineOf[i]!) merged.push(late[next++]!.event);
    merged.push(event);
  });
  while (next < late.length) merged.push(late[next++]!.event);
  return merged;
}

/**
 * The trial of a line the fold does without once that trial has ended (by its prefix: a trial's
 * step, or a type it does not know), or -1 for any other line: a trial's start or record, a run's
 * event, a line not written the ledger's way.
 */
function passable(bytes: Buffer, start: number, end: number): number {
  if (!matches(bytes, start, HEAD, end) || !matches(bytes, start + TYPE_AT - TYPE.length, TYPE, end)) return -1;
  const type = start + TYPE_AT;
  let close = type;
  while (close < end && bytes[close] !== 0x22) close += 1;
  if (close >= end) return -1;
  for (const always of READ_ALWAYS) if (always.length === close - type && bytes[type] === always[0] && matches(bytes, type, always, close)) return -1;
  return numberAt(bytes, close + 1, end);
}

function parseLine(text: string): LedgerEvent | null {
  if (text.trim() === '') return null;
  try {
    const value: unknown = JSON.parse(text);
    return isLedgerEvent(value) ? value : null;
  } catch {
    return null;
  }
}

function matches(bytes: Buffer, at: number, pattern: Buffer, end: number): boolean {
  if (at + pattern.length > end) return false;
  for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) return false;
  return true;
}

/** The trial number of `,"n":<digits>` at `at`, ended by `,` or `}`; -1 when it is not there. */
function numberAt(bytes: Buffer, at: number, end: number): number {
  if (!matches(bytes, at, N, end)) return -1;
  let value = 0;
  let i = at + N.length;
  const first = i;
  for (; i < end && bytes[i]! >= 0x30 && bytes[i]! <= 0x39; i++) value = value * 10 + bytes[i]! - 0x30;
  if (i === first || i - first > 15 || (bytes[i] !== 0x2c && bytes[i] !== 0x7d)) return -1;
  return value;
}
