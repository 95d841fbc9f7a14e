import { closeSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { normalizeRelative, type AccessPolicy } from './access-policy.js';
import { HiddenTextIndex } from './text-fingerprints.js';

/**
 * Keeps the hidden files' text out of everything crucible shows an agent. The experiment runs next
 * to the hidden harness, so its output (a crash report, a log tail) can hold the harness's source:
 * printed on purpose, or quoted by a stack trace. Built once per run from the hidden files as they
 * are in the project folder; only hashes are kept (see text-fingerprints.ts).
 */
export interface HiddenTextRedactor {
  /** `text` with each line that shows hidden text replaced by a marker (consecutive lines by one). */
  readonly redact: (text: string) => string;
  readonly coverage: HiddenTextCoverage;
}

export interface HiddenTextCoverage {
  /** Hidden files indexed, in whole or in part. */
  files: number;
  bytes: number;
  /** Hidden files indexed only in part or not at all, each with why. */
  partial: string[];
}

/** Every read is bounded, so a 1 GB hidden data set costs no more than these. */
export interface HiddenTextLimits {
  /** Bytes read from the start of one file. */
  maxFileBytes: number;
  /** Bytes read from all files together; the smallest files (the harness) are read first. */
  maxTotalBytes: number;
  maxFiles: number;
  /** Folder entries visited to expand hidden folders and globs. */
  maxWalkEntries: number;
  /** Hashes kept per kind (lines, k-grams); 16 bytes each at most. */
  maxEntries: number;
}

// About 1 s and 40 MB at most at a run's start; a harness and its test cases fit many times over.
export const HIDDEN_TEXT_LIMITS: HiddenTextLimits = {
  maxFileBytes: 4 * 1024 * 1024,
  maxTotalBytes: 8 * 1024 * 1024,
  maxFiles: 10_000,
  maxWalkEntries: 100_000,
  maxEntries: 2 ** 20,
};

export const HIDDEN_LINE_MARKER = '[line from a hidden file removed]';

// Colour codes would hide a source line from the comparison (pytest, Node's inspector colour their output).
// eslint-disable-next-line no-control-regex -- the escape character is what is matched
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const MEMO_ENTRIES = 512;
const MEMO_MAX_CHARS = 64 * 1024;
const BINARY_SNIFF_BYTES = 8192;
const MIN_PRINTABLE_RUN = 8;

/** The redactor for the project's hidden files (`policy.hidden`: files, folders and globs). */
export function createHiddenTextRedactor(projectDir: string, policy: AccessPolicy, limits: Partial<HiddenTextLimits> = {}): HiddenTextRedactor {
  const bounds = { ...HIDDEN_TEXT_LIMITS, ...limits };
  const listed = listHiddenFiles(projectDir, policy, bounds);
  const index = new HiddenTextIndex(bounds.maxEntries);
  const coverage: HiddenTextCoverage = { files: 0, bytes: 0, partial: [...listed.problems] };
  // Smallest first: the harness, the file most worth protecting, is never crowded out by data.
  for (const file of listed.files.sort((a, b) => a.size - b.size || (a.rel < b.rel ? -1 : 1))) {
    const budget = Math.min(bounds.maxFileBytes, bounds.maxTotalBytes - coverage.bytes);
    if (budget <= 0) {
      coverage.partial.push(`${file.rel} (not read: ${formatMiB(bounds.maxTotalBytes)} read from hidden files already)`);
      continue;
    }
    const bytes = readPrefix(path.join(projectDir, file.rel), Math.min(budget, file.size));
    if (bytes === null) continue;
    index.addText(textOf(bytes));
    coverage.files++;
    coverage.bytes += bytes.length;
    if (bytes.length < file.size) coverage.partial.push(`${file.rel} (only its first ${formatMiB(bytes.length)} of ${formatMiB(file.size)})`);
  }
  if (index.full) coverage.partial.push(`the index is full (${bounds.maxEntries} hashes per kind): later text is not recognised`);
  return redactorOver(index, coverage);
}

/** A redactor over texts given directly (the hidden files' contents); for tests and previews. */
export function redactorForTexts(texts: readonly string[], maxEntries = HIDDEN_TEXT_LIMITS.maxEntries): HiddenTextRedactor {
  const index = new HiddenTextIndex(maxEntries);
  for (const text of texts) index.addText(text);
  return redactorOver(index, { files: texts.length, bytes: texts.reduce((sum, t) => sum + t.length, 0), partial: [] });
}

/** One line for the run's start when some hidden text could not be indexed; null when all was. */
export function describeCoverage(coverage: HiddenTextCoverage): string | null {
  if (coverage.partial.length === 0) return null;
  const shown = coverage.partial.slice(0, 3).join('; ');
  const more = coverage.partial.length > 3 ? ` and ${coverage.partial.length - 3} more` : '';
  return `hidden text is removed from what agents see, but only as far as it was read: ${shown}${more}`;
}

function redactorOver(index: HiddenTextIndex, coverage: HiddenTextCoverage): HiddenTextRedactor {
  const memo = new Map<string, string>();
  const empty = coverage.files === 0;
  return {
    coverage,
    redact: (text) => {
      if (empty || text === '') return text;
      const known = memo.get(text);
      if (known !== undefined) return known;
      const out: string[] = [];
      let removed = 0;
      const flush = (): void => {
        if (removed > 0) out.push(removed === 1 ? HIDDEN_LINE_MARKER : `[${removed} lines from a hidden file removed]`);
        removed = 0;
      };
      for (const line of text.split('\n')) {
        if (index.matches(line.replace(ANSI, ''))) {
          removed++;
        } else {
          flush();
          out.push(line);
        }
      }
      flush();
      const result = out.join('\n');
      if (text.length <= MEMO_MAX_CHARS) {
        // The same history entries are redacted for every trial's prompt.
        if (memo.size >= MEMO_ENTRIES) memo.clear();
        memo.set(text, result);
      }
      return result;
    },
  };
}

interface HiddenFile {
  rel: string;
  size: number;
}

/** The regular files the hidden entries cover, found without following symlinked folders. */
function listHiddenFiles(projectDir: string, policy: AccessPolicy, bounds: HiddenTextLimits): { files: HiddenFile[]; problems: string[] } {
  const found = new Map<string, HiddenFile>();
  const problems: string[] = [];
  let visited = 0;
  let overflow = false;
  const addFile = (rel: string, size: number): void => {
    if (found.size >= bounds.maxFiles) {
      overflow = true;
      return;
    }
    found.set(rel, { rel, size });
  };
  const walk = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(path.join(projectDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++visited > bounds.maxWalkEntries) {
        overflow = true;
        return;
      }
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.name === '.git' || child === '.crucible') continue;
      if (entry.isDirectory()) walk(child);
      else if (policy.classify(child) === 'hidden') {
        const size = fileSize(path.join(projectDir, child));
        if (size !== null) addFile(child, size);
      }
    }
  };
  for (const entry of policy.hidden) {
    const rel = normalizeRelative(entry);
    if (rel.split('/').includes('..') || path.isAbsolute(entry)) continue;
    const firstGlob = rel.split('/').findIndex((part) => /[*?[]/.test(part));
    if (firstGlob === -1) {
      const info = lstatSafe(path.join(projectDir, rel));
      if (info?.isDirectory()) walk(rel);
      else {
        const size = fileSize(path.join(projectDir, rel));
        if (size !== null) addFile(rel, size);
      }
    } else {
      walk(rel.split('/').slice(0, firstGlob).join('/'));
    }
  }
  if (overflow) problems.push(`more hidden files than crucible looks at (${bounds.maxFiles} files, ${bounds.maxWalkEntries} folder entries)`);
  return { files: [...found.values()], problems };
}

function lstatSafe(file: string): ReturnType<typeof lstatSync> | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

/** The size of a regular file (through a symlink: the experiment reads it that way too), else null. */
function fileSize(file: string): number | null {
  try {
    const info = statSync(file);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

function readPrefix(file: string, maxBytes: number): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const buffer = Buffer.allocUnsafe(maxBytes);
    let length = 0;
    while (length < maxBytes) {
      const n = readSync(fd, buffer, length, maxBytes - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.subarray(0, length);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** A text file as text; of a binary file, its printable runs (what `strings` shows), one per line. */
function textOf(bytes: Buffer): string {
  if (!bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return bytes.toString('utf8');
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? bytes[i]! : 0;
    const printable = (b >= 0x20 && b <= 0x7e) || b === 0x09;
    if (printable && start === -1) start = i;
    else if (!printable && start !== -1) {
      if (i - start >= MIN_PRINTABLE_RUN) runs.push(bytes.toString('latin1', start, i));
      start = -1;
    }
  }
  return runs.join('\n');
}

function formatMiB(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB` : `${bytes} bytes`;
}
