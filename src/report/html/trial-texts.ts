import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { runPaths } from '../../store/run-paths.js';
import { trialArtifactPath } from '../../store/trial-artifacts.js';
import type { ArtifactKind } from './page.js';

/** The files a kind of text may come from, first found wins (each agent backend names its transcript its own way). */
const FILES: Record<ArtifactKind, readonly string[]> = {
  diff: ['diff.patch'],
  prompt: ['prompt.md'],
  transcript: ['agent.log', 'transcript.jsonl', 'tuner.md'],
  log: ['run.log'],
};
// A log is read from its end (where a failure shows), the rest from their start.
const FROM_END: ReadonlySet<ArtifactKind> = new Set(['transcript', 'log']);

export interface TrialText {
  text: string;
  /** Bytes left out to keep within the limit. */
  cut: number;
}

/**
 * One text of a trial's record (`.crucible/runs/<tag>/trials/<n>/`), at most `maxBytes`, or null
 * when there is none. Only crucible's own file names are read, and only as plain files reached
 * without a symbolic link: an experiment runs as the user and could plant a link in the records
 * (to ~/.ssh, say), which would then be served to whoever opens the page. `projectDir` must be a
 * real path.
 */
export function readTrialText(projectDir: string, tag: string, trial: number, kind: ArtifactKind, maxBytes: number): TrialText | null {
  const paths = runPaths(projectDir, tag);
  const dir = paths.trialDir(trial);
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return null;
  }
  if (real !== dir) return null; // a component of the path is a link
  for (const name of FILES[kind]) {
    const read = readPlainFile(trialArtifactPath(paths, trial, name), maxBytes, FROM_END.has(kind));
    if (read !== null) return read;
  }
  return null;
}

function readPlainFile(file: string, maxBytes: number, fromEnd: boolean): TrialText | null {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted in the records would otherwise block the reader for ever.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return null;
    const length = Math.min(info.size, maxBytes);
    const buffer = Buffer.alloc(length);
    const at = fromEnd ? info.size - length : 0;
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buffer, got, length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    const cut = info.size - got;
    const text = buffer.subarray(0, got).toString('utf8');
    const note = cut > 0 ? `[${cut} bytes ${fromEnd ? 'before this' : 'after this'} left out]` : '';
    return { text: cut === 0 ? text : fromEnd ? `${note}\n${text}` : `${text}\n${note}`, cut };
  } finally {
    closeSync(fd);
  }
}
