import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { READ_AFTER_END } from '../store/fold-run.js';
import { isLedgerEvent, type LedgerEvent } from '../store/ledger.js';
import { readLedgerForFold } from '../store/read-run.js';

/** What one look at the ledger found: nothing new, new lines (the trials they name), or a file rewritten. */
export type LedgerChange = { kind: 'none' } | { kind: 'appended'; trials: Set<number> } | { kind: 'reset' };

/**
 * Follows one run's append-only ledger the way `tail -f` does: the file is read whole once, then
 * only the bytes appended since (a 10,000-trial ledger is tens of MB; a new event is a few hundred
 * bytes). Events the fold no longer reads (the steps of trials that have ended) are dropped as
 * their trial ends, so memory stays about one record per trial. A file that shrank or was replaced
 * (records put back, a ledger rewritten by hand) is read again from the start.
 */
export class LedgerFollower {
  events: LedgerEvent[] = [];
  private offset = 0;
  private identity = '';
  private readonly ended = new Set<number>();

  constructor(readonly file: string) {}

  /** Reads what is new. Never throws for a missing file: a run folder without a ledger has no events. */
  refresh(): LedgerChange {
    let info: Stats;
    try {
      info = statSync(this.file);
    } catch {
      if (this.identity === '') return { kind: 'none' };
      this.clear();
      return { kind: 'reset' };
    }
    const identity = `${info.dev}:${info.ino}`;
    if (this.identity === '' || identity !== this.identity || info.size < this.offset) {
      this.loadWhole(identity);
      return { kind: 'reset' };
    }
    if (info.size === this.offset) return { kind: 'none' };
    const added = this.readFrom(info.size);
    if (added.length === 0) return { kind: 'none' };
    const trials = new Set<number>();
    let newlyEnded = false;
    for (const event of added) {
      const n = typeof event['n'] === 'number' ? event['n'] : null;
      if (n === null) continue;
      trials.add(n);
      if (event.type === 'trial.end' && !this.ended.has(n)) {
        this.ended.add(n);
        newlyEnded = true;
      }
    }
    this.events.push(...added);
    if (newlyEnded) this.prune();
    return { kind: 'appended', trials };
  }

  private clear(): void {
    this.events = [];
    this.offset = 0;
    this.identity = '';
    this.ended.clear();
  }

  // The shared reader skips ended trials' steps without parsing them. Its end is known only if the
  // file did not grow meanwhile: otherwise read again (a busy run writes a few lines a second).
  private loadWhole(identity: string): void {
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = statSync(this.file, { throwIfNoEntry: false });
      const events = readLedgerForFold(this.file) ?? [];
      const after = statSync(this.file, { throwIfNoEntry: false });
      if (before === undefined || after === undefined || before.size !== after.size || before.ino !== after.ino) continue;
      this.events = events;
      this.identity = identity;
      this.offset = endOfLastLine(this.file, after.size);
      this.ended.clear();
      for (const event of events) if (event.type === 'trial.end' && typeof event['n'] === 'number') this.ended.add(event['n']);
      return;
    }
    // Still growing: read everything from the start as appended lines.
    this.clear();
    this.identity = identity;
    this.events = this.readFrom(statSync(this.file).size);
    for (const event of this.events) if (event.type === 'trial.end' && typeof event['n'] === 'number') this.ended.add(event['n']);
    this.prune();
  }

  /** The whole lines between the offset and `size`; a torn last line waits for its end. */
  private readFrom(size: number): LedgerEvent[] {
    const length = size - this.offset;
    const buffer = Buffer.allocUnsafe(length);
    const fd = openSync(this.file, 'r');
    let got = 0;
    try {
      while (got < length) {
        const n = readSync(fd, buffer, got, length - got, this.offset + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      closeSync(fd);
    }
    const last = buffer.lastIndexOf(10, got - 1);
    if (last < 0) return [];
    this.offset += last + 1;
    const events: LedgerEvent[] = [];
    for (const line of buffer.toString('utf8', 0, last).split('\n')) {
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        if (isLedgerEvent(value)) events.push(value);
      } catch {
        // Not an event (a line broken by hand): the fold would skip it too.
      }
    }
    return events;
  }

  private prune(): void {
    this.events = this.events.filter((event) => {
      const n = event['n'];
      return typeof n !== 'number' || !this.ended.has(n) || READ_AFTER_END.has(event.type);
    });
  }
}

/** The offset just after the last "\n" before `size`: where the next whole line starts. */
function endOfLastLine(file: string, size: number): number {
  const fd = openSync(file, 'r');
  try {
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - 65536);
      const buffer = Buffer.allocUnsafe(end - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const at = buffer.lastIndexOf(10);
      if (at >= 0) return start + at + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}
