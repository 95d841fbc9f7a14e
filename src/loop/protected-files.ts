import { statSync } from 'node:fs';
import path from 'node:path';
import type { AccessPolicy } from '../workspace/access-policy.js';
import type { Git } from '../workspace/git.js';

/**
 * The experiment runs the agent's code in the project folder, where the hidden harness and the
 * read-only files are present. Code that rewrites them would game every later trial, so each file
 * is fingerprinted before an experiment and checked after it. ctime changes on every write and on
 * every attempt to reset the times, so no content hashing is needed, even for large data files.
 */
export interface ProtectedFiles {
  /** Fingerprints of every protected file now. */
  snapshot(): Map<string, string>;
  /** Protected files whose fingerprint changed since `before` (created, changed or deleted). */
  changedSince(before: ReadonlyMap<string, string>): string[];
  /** Puts tracked files back as HEAD has them; returns the ones that cannot be restored (untracked). */
  restore(files: readonly string[]): Promise<string[]>;
  /** Stops watching files that the unmodified experiment itself rewrites (a harness's own cache). */
  ignore(files: readonly string[]): void;
}

export async function watchProtectedFiles(projectDir: string, policy: AccessPolicy, git: Git, volatile: readonly string[] = []): Promise<ProtectedFiles> {
  const tracked = (await git.run(['ls-files', '-z', '--full-name', '--', '.'])).stdout.split('\0').filter(Boolean);
  const prefix = (await git.run(['rev-parse', '--show-prefix'])).stdout.trim();
  const relative = tracked.map((p) => (prefix && p.startsWith(prefix) ? p.slice(prefix.length) : p));
  const isProtected = (p: string): boolean => {
    const access = policy.classify(p);
    return access === 'hidden' || access === 'readonly';
  };
  const trackedProtected = new Set(relative.filter(isProtected));
  // Listed paths that git does not track (a hidden harness kept out of git, a data file) count too.
  const listed = [...policy.hidden, ...policy.readonly].filter((entry) => !/[*?[]/.test(entry)).map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''));
  const skip = new Set(volatile);
  let files = [...new Set([...trackedProtected, ...listed])].filter((file) => !skip.has(file)).sort();

  const fingerprint = (file: string): string => {
    try {
      const s = statSync(path.join(projectDir, file), { bigint: true });
      if (s.isDirectory()) return 'dir';
      return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`;
    } catch {
      return 'missing';
    }
  };
  return {
    snapshot: () => new Map(files.map((file) => [file, fingerprint(file)])),
    changedSince: (before) => files.filter((file) => before.get(file) !== fingerprint(file)),
    ignore(volatile) {
      const skip = new Set(volatile);
      files = files.filter((file) => !skip.has(file));
    },
    async restore(changed) {
      const restorable = changed.filter((file) => trackedProtected.has(file));
      if (restorable.length > 0) await git.restorePaths('HEAD', restorable);
      return changed.filter((file) => !trackedProtected.has(file));
    },
  };
}
