import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { blobId, MAX_IN_PROCESS_FILE_BYTES } from './in-process-commit.js';
import { entryStatMatches, MAX_INDEX_BYTES, parseIndex, type IndexEntry } from './index-file.js';

/** What an agent did to a worktree, as `git status` would list it, when it only edited or removed tracked files. */
export interface TrackedChanges {
  modified: string[];
  deleted: string[];
}

/** A worktree of more files than this is walked faster by git. */
const MAX_WALKED_ENTRIES = 20_000;

/**
 * `git status --porcelain --untracked-files=all` for an agent's worktree, read in this process
 * (decisions 46): the tracked files whose content differs from their index entry, and those
 * removed. It answers only when the index is one known to hold HEAD's tree (`cleanChecksum`,
 * the checksum of an index crucible saw or wrote at HEAD), so nothing is staged; and only when
 * every file in the worktree is tracked, so nothing is untracked or ignored. Null whenever git
 * must say: an index changed or not plain, any file the index does not name (git decides whether
 * it is ignored), a `.git` below the top, a link, a file that changed kind or mode, a large file.
 *
 * A file whose stat data matches its entry is unchanged, as git decides, unless the entry is
 * racy (its mtime not older than the index's): then, as for any file whose stat data differs,
 * its content is hashed and compared.
 */
export function scanTrackedFiles(top: string, indexFile: string, cleanChecksum: string): TrackedChanges | null {
  try {
    const indexInfo = statSync(indexFile, { bigint: true });
    if (indexInfo.size > MAX_INDEX_BYTES) return null;
    const data = readFileSync(indexFile);
    if (data.toString('hex', data.length - 20) !== cleanChecksum) return null;
    const index = parseIndex(data);
    if (index === null) return null;
    const modified: string[] = [];
    const deleted: string[] = [];
    for (const [name, entry] of index.entries) {
      if (entry.skipWorktree) continue; // git never looks at its file (a hidden one)
      if (!entry.plain || (entry.mode !== 0o100644 && entry.mode !== 0o100755)) return null;
      const info = lstatSync(path.join(top, name), { bigint: true, throwIfNoEntry: false });
      if (info === undefined) {
        deleted.push(name);
        continue;
      }
      if (!info.isFile() || ((info.mode & 0o100n) !== 0n) !== (entry.mode === 0o100755)) return null;
      // A size of 0 may be git's mark on an entry it could not trust (a smudged racy entry).
      if (info.size !== 0n && entryStatMatches(index.data, entry, info) && info.mtimeNs < indexInfo.mtimeNs) continue;
      if (info.size > BigInt(MAX_IN_PROCESS_FILE_BYTES)) return null;
      if (blobId(readFileSync(path.join(top, name))) !== entry.sha) modified.push(name);
    }
    if (!onlyTracked(top, index.entries)) return null;
    return { modified, deleted };
  } catch {
    return null; // a file vanished or turned unreadable while looked at: git says what happened
  }
}

/**
 * Whether every file under `top` has an index entry git looks at (not skip-worktree), and none
 * is a link, a special file or a `.git` below the top.
 */
function onlyTracked(top: string, entries: ReadonlyMap<string, IndexEntry>): boolean {
  let seen = 0;
  const folders = [''];
  for (let folder = folders.pop(); folder !== undefined; folder = folders.pop()) {
    for (const entry of readdirSync(path.join(top, folder), { withFileTypes: true })) {
      if (++seen > MAX_WALKED_ENTRIES) return false;
      // git never lists the top's `.git`; one further down may be a repository of its own.
      if (entry.name === '.git' && folder === '') continue;
      if (entry.name === '.git') return false;
      const name = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) folders.push(name);
      // A file where a hidden one's entry is: git's sparse checkout reports it, and so must the scan.
      else if (!entry.isFile() || entries.get(name)?.skipWorktree !== false) return false;
    }
  }
  return true;
}
