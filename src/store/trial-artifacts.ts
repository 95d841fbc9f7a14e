import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInFolder } from '../create-in-folder.js';
import { storageErrorFrom } from '../errors.js';
import { overwriteInPlace } from '../workspace/overwrite-file.js';
import type { RunPaths } from './run-paths.js';

/** Files kept per trial in `trials/<n>/`. Other plain names are allowed too. */
export type TrialArtifactName = 'prompt.md' | 'agent.log' | 'diff.patch' | 'run.log' | (string & {});

export function trialArtifactPath(paths: RunPaths, n: number, name: TrialArtifactName): string {
  // The name comes from crucible, never from the agent: anything else is a bug.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name) || name.includes('..')) {
    throw new Error(`invalid trial artefact name ${JSON.stringify(name)}`);
  }
  return join(paths.trialDir(n), name);
}

/** Writes (replacing) one artefact of trial n, creating its folder; returns the file's path. */
export function writeTrialArtifact(paths: RunPaths, n: number, name: TrialArtifactName, content: string): string {
  const file = trialArtifactPath(paths, n, name);
  writeNamedFile(file, content);
  return file;
}

/**
 * Writes (replacing) a file of crucible's own, creating its folder. A write that the disk refuses
 * fails with the file's name: the write call itself does not carry it (a full disk, exit 74).
 * Written at once, not through the thread pool: a trial's artefacts are small (a prompt of a
 * long run is some tens of KB), and each of the pool's round trips (the folder, the open, the
 * write, the close) cost a serial trial more than the whole write does (decisions 65). The folder
 * is made only when the write finds it missing (createInFolder).
 */
export function writeNamedFile(file: string, content: string): void {
  try {
    createInFolder(file, () => writeFileSync(file, content, 'utf8'));
  } catch (error) {
    throw storageErrorFrom(error, file, 'cannot write') ?? error;
  }
}

/**
 * writeNamedFile for a file of crucible's own that is written again and again with the same name
 * (a command agent's prompt files): left alone when it holds `content` already, else rewritten
 * in place where it is a plain file of its own (decisions 74), else written as writeNamedFile does.
 */
export function writeChangedFile(file: string, content: string): void {
  const bytes = Buffer.from(content, 'utf8');
  try {
    if (readFileSync(file).equals(bytes)) return;
    if (overwriteInPlace(file, bytes)) return;
  } catch (error) {
    // Absent (written below), or unreadable: writeNamedFile says what the disk refused.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw storageErrorFrom(error, file, 'cannot write') ?? error;
  }
  writeNamedFile(file, content);
}
