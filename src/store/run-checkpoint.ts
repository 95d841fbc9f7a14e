import { readFileSync, readSync } from 'node:fs';
import { isOutcome } from '../core/outcome.js';
import { foldRun, type TrialNode } from './fold-run.js';
import { isLedgerEvent, type LedgerEvent } from './ledger.js';
import type { ResultRow } from './result-row.js';
import { rowsOfView } from './result-row-of.js';

/**
 * `.crucible/runs/<tag>/checkpoint.json`: what the read commands need of the first `bytes` bytes
 * of a run's ledger, so that `status` and `history` on a run of 100,000 trials read the ledger
 * only after that point (decisions 53). Only the run writes it; it is a cache, never a record:
 * one that does not match the ledger (its last bytes before that point differ, the file is shorter,
 * it cannot be read) is ignored, and the ledger is read whole, as before.
 */
export interface RunCheckpoint {
  /** The ledger bytes it covers: always the end of a line. */
  bytes: number;
  /** The ledger's last bytes before `bytes` (up to TAIL_BYTES), as written: what ties it to this ledger. */
  tail: Buffer;
  prefix: FoldedPrefix;
}

/** A ledger's prefix as far as the read commands need it. */
export interface FoldedPrefix {
  /** The results rows of the trials finished in the prefix, in trial order. */
  rows: ResultRow[];
  /**
   * The prefix's events that the fold still needs: the run's own (creation, sessions, volatile
   * files) and every event of a trial not yet finished, in ledger order.
   */
  carried: LedgerEvent[];
}

/** What `status`, `history` and `compare` read of a run. */
export interface RunRecord {
  rows: ResultRow[];
  inFlight: TrialNode[];
}

export const TAIL_BYTES = 4096;
const VERSION = 1;

/**
 * Folds `events`, the ledger after `prefix`, onto it. Null when they name a trial the prefix had
 * finished (a recovery's second record of it, a hand edit): the rows cannot be patched, and the
 * caller folds the ledger whole. `prefix` null: `events` is the whole ledger.
 */
export function foldOnto(tag: string, prefix: FoldedPrefix | null, events: readonly LedgerEvent[]): { record: RunRecord; prefix: FoldedPrefix } | null {
  const all = prefix === null ? events : [...prefix.carried, ...events];
  const view = foldRun(all);
  const finishedBefore = prefix === null ? null : new Set(prefix.rows.map((row) => row.trial));
  if (finishedBefore !== null && view.trials.some((node) => finishedBefore.has(node.trial))) return null;
  const rows = mergeByTrial(prefix?.rows ?? [], rowsOfView(tag, view));
  const unfinished = new Set(view.inFlight.map((node) => node.trial));
  const carried = all.filter((event) => typeof event.n !== 'number' || unfinished.has(event.n) || event.type === 'protected.volatile');
  return { record: { rows, inFlight: view.inFlight }, prefix: { rows, carried } };
}

function mergeByTrial(a: readonly ResultRow[], b: readonly ResultRow[]): ResultRow[] {
  if (b.length === 0) return [...a];
  if (a.length === 0) return [...b];
  const merged: ResultRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(a[i]!.trial <= b[j]!.trial ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}

// A row is written as an array of these fields, in this order (the order resultRowOf gives them),
// an absent one as `false`, which no field can be: half the size of objects, and quicker to parse.
const COLUMNS = [
  'commit',
  'metric',
  'status',
  'description',
  'trial',
  'timestamp',
  'agentSeconds',
  'runSeconds',
  'totalSeconds',
  'costUsd',
  'inputTokens',
  'outputTokens',
  'cacheReadTokens',
  'cacheWriteTokens',
  'parent',
  'base',
  'slot',
  'remeasureOf',
  'measurements',
  'samples',
  'incumbentSamples',
  'margin',
  'p',
] as const;
const ABSENT = false;

/**
 * The checkpoint's text: one JSON object, in ASCII (the rest escaped), which V8 reads into a
 * one-byte string: a description with one "→" would make it decode the whole file at two bytes a
 * character, several times slower.
 */
export function formatCheckpoint(tag: string, checkpoint: RunCheckpoint): string {
  const rows = checkpoint.prefix.rows.map((row) => {
    const cells: unknown[] = COLUMNS.map((column) => row[column] ?? (row[column] === null ? null : ABSENT));
    while (cells.length > 0 && cells[cells.length - 1] === ABSENT) cells.pop();
    return cells;
  });
  const text = JSON.stringify({ v: VERSION, tag, bytes: checkpoint.bytes, tail: checkpoint.tail.toString('base64'), columns: COLUMNS, rows, carried: checkpoint.prefix.carried });
  return `${text.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/**
 * The checkpoint of run `tag` in `file` when it matches the ledger open at `ledgerFd` (of `size`
 * bytes); null otherwise: missing, unreadable, another run's, of another version, or not this
 * ledger's prefix. Never throws.
 */
export function loadCheckpoint(file: string, tag: string, ledgerFd: number, size: number): RunCheckpoint | null {
  let value: unknown;
  try {
    // ASCII as written (formatCheckpoint); any other byte makes it no checkpoint of ours.
    value = JSON.parse(readFileSync(file, 'latin1'));
  } catch {
    return null;
  }
  const checkpoint = parseCheckpoint(value, tag);
  if (checkpoint === null || checkpoint.bytes > size) return null;
  try {
    return checkpoint.tail.equals(ledgerTail(ledgerFd, checkpoint.bytes)) ? checkpoint : null;
  } catch {
    return null;
  }
}

/** The folded prefix of a checkpoint text this run wrote (formatCheckpoint); null when it is none. */
export function prefixOfCheckpoint(text: string, tag: string): FoldedPrefix | null {
  try {
    return parseCheckpoint(JSON.parse(text), tag)?.prefix ?? null;
  } catch {
    return null;
  }
}

/** The ledger's last bytes before `end`, up to TAIL_BYTES. */
export function ledgerTail(fd: number, end: number): Buffer {
  const length = Math.min(TAIL_BYTES, end);
  const tail = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const read = readSync(fd, tail, got, length - got, end - length + got);
    if (read === 0) break;
    got += read;
  }
  return tail.subarray(0, got);
}

function parseCheckpoint(value: unknown, tag: string): RunCheckpoint | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const { bytes, tail, columns, rows, carried } = record;
  if (record['v'] !== VERSION || record['tag'] !== tag) return null;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0 || typeof tail !== 'string') return null;
  if (!Array.isArray(columns) || columns.length !== COLUMNS.length || !COLUMNS.every((column, i) => columns[i] === column)) return null;
  if (!Array.isArray(rows) || !Array.isArray(carried) || !carried.every(isLedgerEvent)) return null;
  const read: ResultRow[] = [];
  let previous = -1;
  for (const cells of rows) {
    const row = Array.isArray(cells) ? rowOf(cells, tag) : null;
    if (row === null || row.trial <= previous) return null;
    previous = row.trial;
    read.push(row);
  }
  const tailBytes = Buffer.from(tail, 'base64');
  // The tail is all of a short ledger, or TAIL_BYTES of a longer one.
  if (tailBytes.length !== Math.min(TAIL_BYTES, bytes)) return null;
  return { bytes, tail: tailBytes, prefix: { rows: read, carried } };
}

type Check = (value: unknown) => boolean;
const isCount: Check = (value) => typeof value === 'number' && Number.isInteger(value) && value >= 0;
const isFiniteNumber: Check = (value) => typeof value === 'number' && Number.isFinite(value);
const isNumberOrNull: Check = (value) => value === null || isFiniteNumber(value);
const isNumbers: Check = (value) => Array.isArray(value) && value.every(isFiniteNumber);
// What a results.tsv cell may hold (rowsOfView makes every text field one).
const isOneCell: Check = (value) => typeof value === 'string' && value.indexOf('\t') === -1 && value.indexOf('\n') === -1 && value.indexOf('\r') === -1;
const isDescription: Check = (value) => value !== '' && isOneCell(value);

// What each column may hold, in COLUMNS order; the first REQUIRED may not be absent. Whatever a
// report does with a row must not throw on it.
const CHECKS: readonly Check[] = [
  isOneCell, // commit
  isNumberOrNull, // metric
  isOutcome, // status
  isDescription, // description
  isCount, // trial
  isOneCell, // timestamp
  isNumberOrNull, // agentSeconds
  isNumberOrNull, // runSeconds
  isNumberOrNull, // totalSeconds
  isNumberOrNull, // costUsd
  isNumberOrNull, // inputTokens
  isNumberOrNull, // outputTokens
  isNumberOrNull, // cacheReadTokens
  isNumberOrNull, // cacheWriteTokens
  isOneCell, // parent
  isOneCell, // base
  isCount, // slot
  isCount, // remeasureOf
  isCount, // measurements
  isNumbers, // samples
  isNumbers, // incumbentSamples
  isFiniteNumber, // margin
  isFiniteNumber, // p
];
const REQUIRED = COLUMNS.indexOf('costUsd') + 1;
const DESCRIPTION = COLUMNS.indexOf('description');

/** The row `cells` hold (formatCheckpoint), with its fields in resultRowOf's order; null when one is not what it must be. */
function rowOf(cells: readonly unknown[], tag: string): ResultRow | null {
  if (cells.length < REQUIRED || cells.length > COLUMNS.length) return null;
  const row: Record<string, unknown> = {};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === ABSENT) {
      if (i < REQUIRED) return null;
      continue;
    }
    if (!CHECKS[i]!(cell)) return null;
    row[COLUMNS[i]!] = cell;
    // The tag is the run's: written once for the file, put back in its place.
    if (i === DESCRIPTION) row['tag'] = tag;
  }
  return row as unknown as ResultRow;
}
