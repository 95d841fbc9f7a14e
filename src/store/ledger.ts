// node:fs/promises through `promises`, read at the first call: a read command that calls none
// of these never loads it (2.5 ms of its start).
import { mkdirSync, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { openAppendOnlyFile } from './append-only-file.js';
import { CompressedLines } from './compressed-lines.js';

/**
 * `.crucible/runs/<tag>/ledger.jsonl`: every step of every trial, one JSON object per line.
 * A step's event is appended before its side effect, so after a crash the ledger says how far
 * the last trial got (see design/trial-lifecycle.md).
 */
export type LedgerEvent = { v: 1; ts: string; type: string; n?: number; [k: string]: unknown };

export interface Ledger {
  readonly file: string;
  /** Lines ignored at open (not JSON, not an event), one line each ("line N: ..."). */
  readonly problems: readonly string[];
  /** The torn last line removed at open, or null. */
  readonly repaired: string | null;
  /**
   * Appends one event, written with a single write ending in "\n". Not yet flushed: call
   * `sync()` before a side effect that the event announces.
   */
  append(type: string, fields?: Record<string, unknown>): LedgerEvent;
  /** Flushes appended events to disk (fdatasync). */
  sync(): void;
  /**
   * Puts the file back as this ledger wrote it when anyone else deleted, truncated or appended to
   * it (an experiment runs arbitrary code in the project folder). Returns true when it had to.
   */
  restoreIfChanged(): boolean;
  /**
   * The file's length in bytes when it is as this ledger left it (the lines read at open, which
   * `events()` holds bar those that are no event, then its own); null when anyone else changed it
   * since (see restoreIfChanged).
   */
  intactSize(): number | null;
  /** The file's length as this ledger left it, without looking at the file. */
  size(): number;
  /**
   * Every event, old and new, in order: parsed from the kept lines on each call after an append,
   * so for opening a run, not for every trial (see eventsFrom).
   */
  events(): readonly LedgerEvent[];
  /** How many events there are. */
  eventCount(): number;
  /** The events from index `start` of events() on, in order. */
  eventsFrom(start: number): LedgerEvent[];
  lastEvent(): LedgerEvent | undefined;
  /** Flushes what was appended since the last `sync()`, then closes the file. */
  close(): void;
}

const RESERVED = ['v', 'ts', 'type'] as const;

/** Opens (creating it and its folder when missing) the ledger for appending; reads it once. */
export function openLedger(file: string, options: { now?: () => Date } = {}): Ledger {
  const now = options.now ?? ((): Date => new Date());
  mkdirSync(dirname(file), { recursive: true });
  const handle = openAppendOnlyFile(file);
  // The run keeps its events as their lines, compressed (decisions 58): parsed, they were the
  // largest part of a long run's heap. Parsed, they are read at open (foldRun, the results'
  // reconciliation), and kept until the first append, which the callers at open come before.
  const lines = new CompressedLines();
  const { events: initial, problems } = parseLedgerText(handle.takeText(), (line) => lines.push(line));
  lines.copyPending();
  let parsed: LedgerEvent[] | null = initial;
  let last = initial.at(-1);
  const killAfter = faultPoints(process.env['CRUCIBLE_FAULT_KILL_AFTER']);
  let closed = false;

  return {
    file,
    problems,
    repaired: handle.torn,
    append(type: string, fields: Record<string, unknown> = {}): LedgerEvent {
      for (const key of RESERVED) {
        if (key in fields) throw new Error(`ledger event field "${key}" is reserved`);
      }
      if (fields['n'] !== undefined && !Number.isInteger(fields['n'])) {
        throw new Error(`ledger event n must be an integer, got ${JSON.stringify(fields['n'])}`);
      }
      const event: LedgerEvent = { v: 1, ts: now().toISOString(), type, ...fields };
      // Stored as it reads back (undefined fields dropped, dates as strings): events() then
      // answers the same before and after a reopen.
      const line = JSON.stringify(event);
      handle.appendLine(line);
      const stored = JSON.parse(line) as LedgerEvent;
      lines.push(line);
      parsed = null;
      last = stored;
      if (killAfter.size > 0 && killAfter.written(`${type}:${typeof fields['n'] === 'number' ? fields['n'] : ''}`)) {
        handle.sync();
        process.kill(process.pid, 'SIGKILL');
      }
      return stored;
    },
    sync(): void {
      handle.sync();
    },
    restoreIfChanged(): boolean {
      if (handle.intact()) return false;
      handle.replace(lines.text());
      return true;
    },
    intactSize(): number | null {
      return handle.intact() ? handle.size() : null;
    },
    size(): number {
      return handle.size();
    },
    events(): readonly LedgerEvent[] {
      parsed ??= parseLines(lines.from(0));
      return parsed;
    },
    eventCount(): number {
      return lines.count;
    },
    eventsFrom(start: number): LedgerEvent[] {
      return parseLines(lines.from(start));
    },
    lastEvent(): LedgerEvent | undefined {
      return last;
    },
    close(): void {
      if (closed) return;
      closed = true;
      // Events after the last write-ahead flush (a trial's end, the session's) reach the disk now.
      try {
        handle.sync();
      } finally {
        handle.close();
      }
    },
  };
}

/**
 * Fault injection for crash testing: `CRUCIBLE_FAULT_KILL_AFTER=commit:2,apply:3` makes the
 * process SIGKILL itself right after writing any of those events, the way a power cut or
 * `kill -9` would stop a run between two steps; `run.start:2+run.start:3`, once it has written
 * both, whichever comes last (trials in flight write theirs in either order). Unset, it costs nothing.
 */
function faultPoints(spec: string | undefined): { size: number; written(point: string): boolean } {
  const points = (spec ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => new Set(s.split('+')));
  return {
    size: points.length,
    written(point: string): boolean {
      for (const waiting of points) waiting.delete(point);
      return points.some((waiting) => waiting.size === 0);
    },
  };
}

/** Reads a ledger without changing it. A missing file reads as no events. */
export async function readLedger(file: string): Promise<LedgerEvent[]> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // A last line without its "\n" is a write in progress or a torn one: not an event yet.
  return parseLedgerText(text.slice(0, text.lastIndexOf('\n') + 1)).events;
}

/** Events from lines this ledger wrote or kept as events. */
function parseLines(lines: readonly string[]): LedgerEvent[] {
  return lines.map((line) => JSON.parse(line) as LedgerEvent);
}

/** Parses ledger text; lines that are not events are skipped and reported. `onEvent` gets each event's line. */
export function parseLedgerText(text: string, onEvent?: (line: string) => void): { events: LedgerEvent[]; problems: string[] } {
  const events: LedgerEvent[] = [];
  const problems: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const problem = (what: string): void => {
      problems.push(`line ${index + 1}: ${what}; ignored`);
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      problem('not valid JSON');
      return;
    }
    if (!isLedgerEvent(value)) {
      problem('not a ledger event (v 1 with ts and type)');
      return;
    }
    events.push(value);
    onEvent?.(line);
  });
  return { events, problems };
}

/** Whether a parsed line is an event at all (v 1, a ts and a type); what it says is read by ledger-events.ts. */
export function isLedgerEvent(value: unknown): value is LedgerEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return (
    record['v'] === 1 &&
    typeof record['ts'] === 'string' &&
    typeof record['type'] === 'string' &&
    (record['n'] === undefined || typeof record['n'] === 'number')
  );
}
