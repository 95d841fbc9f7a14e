import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
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
export async function writeTrialArtifact(
  paths: RunPaths,
  n: number,
  name: TrialArtifactName,
  content: string,
): Promise<string> {
  const file = trialArtifactPath(paths, n, name);
  await writeNamedFile(file, content);
  return file;
}

/**
 * Writes (replacing) a file of crucible's own, creating its folder. A write that the disk refuses
 * fails with the file's name: the write call itself does not carry it (a full disk, exit 74).
 */
export async function writeNamedFile(file: string, content: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content, 'utf8');
  } catch (error) {
    throw storageErrorFrom(error, file, 'cannot write') ?? error;
  }
}
