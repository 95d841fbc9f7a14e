import { closeSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Ledger } from './ledger.js';
import { replaceFile } from './replace-file.js';
import { foldOnto, formatCheckpoint, ledgerTail, prefixOfCheckpoint, type FoldedPrefix } from './run-checkpoint.js';

/** How much the ledger grows between two checkpoints: about 1,600 trials of the tuner. */
export const CHECKPOINT_EVERY_BYTES = 4 * 1024 * 1024;

/** The run's side of run-checkpoint.ts: it alone writes the checkpoint, from what it holds in memory. */
export interface CheckpointWriter {
  /** Writes a checkpoint when the ledger has grown by `everyBytes` since the last one. */
  afterTrial(): void;
  /**
   * Writes a checkpoint of the ledger as it stands, unless someone else changed the ledger (its
   * bytes are then not the events this run holds). A cache: a failure to write it is no error.
   */
  write(): void;
  /**
   * Puts back the checkpoint this run wrote when anyone else changed or replaced it, or removes
   * one this run did not write that changed since it opened; true when it had to.
   */
  restoreIfChanged(): boolean;
}

export interface CheckpointWriterOptions {
  /** How much the ledger grows between two checkpoints (CHECKPOINT_EVERY_BYTES). */
  everyBytes?: number;
  /**
   * The fold (foldOnto) of the ledger's events as they stand at this call, where the caller has
   * made it: the first write goes on from it instead of parsing and folding the whole ledger
   * again (0.5 s at 10,000 trials, at the end of a session; decisions 62). Held until that
   * write, then dropped for the text.
   */
  folded?: FoldedPrefix;
}

export function openCheckpointWriter(file: string, tag: string, ledger: Ledger, options: CheckpointWriterOptions = {}): CheckpointWriter {
  const everyBytes = options.everyBytes ?? CHECKPOINT_EVERY_BYTES;
  removeTemporaries(file);
  // Only what this run folded itself is trusted: a checkpoint found on disk is for readers. Its
  // folded prefix is read back from the text this run wrote, which it keeps to restore the file:
  // kept as objects too, it was a long run's heap's third largest part (decisions 58).
  let opened = options.folded ?? null;
  // How many of the ledger's events the prefix (the open's fold, then the text's) holds.
  let covered = opened === null ? 0 : ledger.eventCount();
  // false: the next write folds the whole ledger (nothing folded yet, or a try failed).
  let foldOnText = opened !== null;
  let writtenAt = ledger.size();
  let text: string | null = null;
  let mark = identity(file);

  const writer: CheckpointWriter = {
    afterTrial(): void {
      if (ledger.size() - writtenAt >= everyBytes) writer.write();
    },
    write(): void {
      const bytes = ledger.intactSize();
      if (bytes === null) return;
      const count = ledger.eventCount();
      // Tried at this length: whatever happens, the next try waits for as much ledger again.
      writtenAt = bytes;
      try {
        const prefix = !foldOnText ? null : (opened ?? (text === null ? null : prefixOfCheckpoint(text, tag)));
        opened = null;
        const folded = (prefix === null ? null : foldOnto(tag, prefix, ledger.eventsFrom(covered))) ?? foldOnto(tag, null, ledger.events())!;
        const fd = openSync(ledger.file, 'r');
        let tail: Buffer;
        try {
          tail = ledgerTail(fd, bytes);
        } finally {
          closeSync(fd);
        }
        const next = formatCheckpoint(tag, { bytes, tail, prefix: folded.prefix });
        replaceFile(file, next, { sync: false });
        text = next;
        covered = count;
        foldOnText = true;
        mark = identity(file);
      } catch {
        // A cache never stops a run: the next write tries again, from the whole ledger; readers
        // read the ledger whole meanwhile.
        foldOnText = false;
      }
    },
    restoreIfChanged(): boolean {
      if (identity(file) === mark) return false;
      try {
        if (text === null) rmSync(file, { force: true });
        else replaceFile(file, text, { sync: false });
      } catch {
        // Not restored: the run's records check reports it again after the next experiment.
        return true;
      }
      mark = identity(file);
      return true;
    },
  };
  return writer;
}

/**
 * The temporaries a run killed while writing its checkpoint left (`checkpoint.json.<pid>.new`):
 * only one run holds the folder's lock, so none is being written now.
 */
function removeTemporaries(file: string): void {
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.new')) continue;
    try {
      rmSync(join(dirname(file), name), { force: true });
    } catch {
      // Not a file (a folder someone made there): not ours to remove, and in no one's way.
    }
  }
}

function identity(file: string): string {
  try {
    const stats = statSync(file, { bigint: true });
    return `${stats.dev}:${stats.ino}:${stats.size}:${stats.ctimeNs}`;
  } catch {
    return 'absent';
  }
}
