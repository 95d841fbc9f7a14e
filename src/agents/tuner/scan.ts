/**
 * Finds the marked constants of a workspace: every file the access policy calls editable,
 * read and searched for `@tune` markers, each constant given a unique name.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessPolicy } from '../../workspace/access-policy.js';
import type { TunedParam } from './types.js';
import { parseMarkers, type Marker } from './marker.js';

export interface WorkspaceScan {
  params: TunedParam[];
  /** Malformed markers, one line each, naming file:line. */
  problems: string[];
}

const SKIPPED_FOLDERS = new Set(['.git', 'node_modules']);
// Source files are small; anything larger is data, not code worth scanning.
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/**
 * Read without the thread pool: a trial's workspace is read whole each turn, and each of the
 * pool's round trips (a folder, a file's stat, its read) cost a serial trial more than the read
 * itself (decisions 65).
 */
export function scanWorkspace(root: string, policy: AccessPolicy): WorkspaceScan {
  const markers: Marker[] = [];
  const problems: string[] = [];
  for (const file of listEditableFiles(root, policy)) {
    const buffer = readFileSync(join(root, file));
    if (buffer.subarray(0, 8000).includes(0)) continue; // binary
    const scan = parseMarkers(buffer.toString('utf8'), file);
    markers.push(...scan.markers);
    problems.push(...scan.problems);
  }
  return { params: nameParams(markers), problems };
}

/** Editable files under `root`, as sorted relative paths with "/" (symbolic links are not followed). */
export function listEditableFiles(root: string, policy: AccessPolicy): string[] {
  const files: string[] = [];
  const walk = (relative: string): void => {
    const entries = readdirSync(join(root, relative), { withFileTypes: true });
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) walk(path);
      } else if (entry.isFile() && policy.classify(path) === 'editable') {
        const stats = lstatSync(join(root, path));
        if (stats.size <= MAX_FILE_BYTES) files.push(path);
      }
    }
  };
  walk('');
  return files.sort();
}

/**
 * Names must be unique across files: a clash is qualified with the file ("src/a.js:CUTOFF"), and
 * one that still clashes (the same name twice in one file) with the line.
 */
export function nameParams(markers: readonly Marker[]): TunedParam[] {
  const count = (names: readonly string[]) => names.reduce((m, n) => m.set(n, (m.get(n) ?? 0) + 1), new Map<string, number>());
  // Names travel in descriptions as single words: a path with spaces is written with "_".
  const at = (m: Marker) => m.file.replace(/\s/g, '_');
  const plain = markers.map((m) => m.identifier ?? `${at(m)}:${m.line}`);
  const plainCount = count(plain);
  const qualified = markers.map((m, i) => (plainCount.get(plain[i]!)! > 1 && m.identifier !== null ? `${at(m)}:${m.identifier}` : plain[i]!));
  const qualifiedCount = count(qualified);
  return markers.map((m, i) => {
    const name = qualifiedCount.get(qualified[i]!)! > 1 ? `${at(m)}:${m.line}` : qualified[i]!;
    const { identifier: _identifier, ...rest } = m;
    return { ...rest, name };
  });
}
