import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Git } from './git.js';
import { IndexCheckout } from './index-checkout.js';
import { gitDirs, RefFiles } from './ref-files.js';

/**
 * A cheap proof that the run branch, HEAD and the index are still what a full check found: the
 * guard before each step that moves something costs two git processes (tens of milliseconds on a
 * loaded machine, four times a trial), while reading HEAD, the branch's ref file and the index's
 * stat costs microseconds. Nothing is interpreted: the files are compared with how they looked
 * when git itself last said all was well (or when crucible itself moved the branch from a state
 * so proven), and any difference at all sends the guard back to git, which names what changed.
 *
 * Why it holds: git writes HEAD, loose refs and the index through a lock file renamed over the
 * old one, so any write gives the index a new inode and a new ctime (which no process can set
 * back), and a ref or HEAD new content; `pack-refs` removes the loose ref (no fingerprint: back
 * to git). Where it stops: a change made in the instant between a git command of crucible's own
 * ending and this reading its files is taken as crucible's (decisions.md 26).
 */
export class RunBranchWatch {
  private trusted: { fingerprint: string; sha: string; staged: readonly string[] } | null = null;

  private constructor(
    private readonly files: { head: string; ref: string; index: string } | null,
    /** Writes the branch's moves without a git process when the repository allows (null: git does). */
    readonly refFiles: RefFiles | null = null,
    /** Moves the project folder's files and index without a git process when it is plain (null: git does). */
    readonly checkout: IndexCheckout | null = null,
  ) {}

  /** Finds the files of `git`'s repository; a watch that always defers to git when they are not plain files. */
  static async open(git: Git, branch: string, env: NodeJS.ProcessEnv = process.env, known?: { gitDir: string; commonDir: string; top: string }): Promise<RunBranchWatch> {
    const dirs = known ?? (await gitDirs(git));
    if (dirs === null) return new RunBranchWatch(null);
    const { gitDir, commonDir } = dirs;
    const files = { head: path.join(gitDir, 'HEAD'), ref: path.join(commonDir, 'refs', 'heads', ...branch.split('/')), index: path.join(gitDir, 'index') };
    const [refFiles, checkout] = await Promise.all([RefFiles.open(git, dirs), IndexCheckout.open(git, dirs, env).catch(() => null)]);
    return new RunBranchWatch(files, refFiles, checkout);
  }

  /** How the three files look now, or null when one of them cannot be read as a plain file. */
  fingerprint(): string | null {
    if (this.files === null) return null;
    try {
      const index = statSync(this.files.index, { bigint: true, throwIfNoEntry: false });
      const indexPart = index === undefined ? 'no index' : `${index.dev}:${index.ino}:${index.size}:${index.mtimeNs}:${index.ctimeNs}`;
      return `${readFileSync(this.files.head, 'utf8')}\0${readFileSync(this.files.ref, 'utf8')}\0${indexPart}`;
    } catch {
      return null;
    }
  }

  /** True when the files are exactly as they were when `sha` with `staged` was last proven. */
  holds(sha: string, staged: readonly string[]): boolean {
    const t = this.trusted;
    return t !== null && t.sha === sha && sameList(t.staged, staged) && this.fingerprint() === t.fingerprint;
  }

  /** What was staged when `sha` was last proven, if the files are exactly as they were then; else null. */
  provenStaged(sha: string): readonly string[] | null {
    const t = this.trusted;
    return t !== null && t.sha === sha && this.fingerprint() === t.fingerprint ? t.staged : null;
  }

  /** Git found `sha` with `staged`, and the files looked like `fingerprint` before it looked. */
  trust(fingerprint: string | null, sha: string, staged: readonly string[]): void {
    this.trusted = fingerprint === null ? null : { fingerprint, sha, staged: [...staged] };
  }

  /**
   * Crucible itself moved the branch to `to` with a two-way read-tree, which carries what is
   * staged forward: proven again when it was proven before the move (`staged`), else not.
   */
  moved(staged: readonly string[] | null, to: string): void {
    if (staged === null) this.trusted = null;
    else this.trust(this.fingerprint(), to, staged);
  }

  forget(): void {
    this.trusted = null;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
