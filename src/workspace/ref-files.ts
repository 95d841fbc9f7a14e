import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseVars, type Git } from './git.js';
import { lockFilesOf, type HeldLock, type LockFiles } from './lock-files.js';

/**
 * Ref updates written the way git's files backend writes them, without starting git: a lock file
 * made with O_EXCL next to each ref, the expected old value checked under the locks, the new
 * value written into the locks, the reflogs appended, and each lock renamed over its ref. On
 * this project's machines starting any process costs about 10 ms of blocked event loop, and a
 * discarded trial moves the run branch twice (issue 12): the branch's compare-and-swap and the
 * failed/ tags keep their meaning, only the `git update-ref` process goes.
 *
 * Only the plain case is done here; anything else is left to git, which then does it or refuses
 * it with its own message: `tryUpdate` returns false having changed nothing when a lock exists,
 * the old value is not the expected one, a ref is not a plain loose or packed sha (a symbolic
 * ref), the refs are not under the repository's own folder (a link), the repository stores refs
 * in a reftable, or a write fails before any ref was renamed.
 *
 * Like git: the reflog of a branch is appended when it exists, and HEAD's too when HEAD points at
 * that branch. Unlike git: a reflog that does not exist yet is not created (git creates one for
 * a branch under core.logAllRefUpdates; crucible's run branch has one from `git branch`), and
 * tags get none (git writes them only under core.logAllRefUpdates=always).
 */

export interface RefUpdate {
  /** Full name: refs/heads/..., refs/tags/... */
  ref: string;
  to: string;
  /** The value the ref must have now; absent: any (or none). */
  from?: string;
}

const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

export class RefFiles {
  private constructor(
    private readonly gitDir: string,
    private readonly commonDir: string,
    /** "Name <email>", as git writes it in a reflog line. */
    private readonly ident: string,
  ) {
    this.locks = lockFilesOf(commonDir);
  }

  private readonly locks: LockFiles;

  /**
   * The ref files of `git`'s repository, or null when git must write them itself (a reftable,
   * a commit date fixed by the environment, a repository git cannot describe).
   */
  static async open(git: Git, dirs?: { gitDir: string; commonDir: string }): Promise<RefFiles | null> {
    // A fixed committer date (tests, reproducible builds) goes into reflogs: git knows how.
    if (process.env['GIT_COMMITTER_DATE'] !== undefined) return null;
    // The committer as git writes it in a reflog (not strictly checked there either).
    const [where, vars] = await Promise.all([dirs ?? gitDirs(git), git.listVars()]);
    const who = /^(.*>) \d+ [+-]\d{4}$/.exec(parseVars(vars.stdout).get('git_committer_ident') ?? '')?.[1];
    if (where === null || vars.exitCode !== 0 || who === undefined || /[\n\0]/.test(who)) return null;
    try {
      const commonDir = realpathSync(where.commonDir);
      if (existsSync(path.join(commonDir, 'reftable')) || !lstatSync(path.join(commonDir, 'refs')).isDirectory()) return null;
      return new RefFiles(realpathSync(where.gitDir), commonDir, who);
    } catch {
      return null;
    }
  }

  /** Applies every update or none; false (nothing changed) when git must do it instead. */
  tryUpdate(updates: readonly RefUpdate[], message: string): boolean {
    if (updates.length === 0) return true;
    if (!updates.every((u) => validName(u.ref) && SHA.test(u.to) && (u.from === undefined || SHA.test(u.from)))) return false;
    if (new Set(updates.map((u) => u.ref)).size !== updates.length) return false;
    const locked: Array<{ update: RefUpdate; lock: HeldLock; old: string | null }> = [];
    const release = () => {
      for (const l of locked) l.lock.release();
    };
    try {
      for (const update of updates) {
        const file = this.refFile(update.ref);
        if (file === null) return bail(release);
        let lock: HeldLock;
        try {
          lock = this.locks.take(file);
        } catch {
          return bail(release); // held by another git (or left by a killed one): git says which
        }
        locked.push({ update, lock, old: null });
        const old = this.readRef(update.ref, file);
        if (old === undefined || (update.from !== undefined && old !== update.from)) return bail(release);
        locked.at(-1)!.old = old;
        lock.write(`${update.to}\n`);
      }
      const line = (old: string | null, to: string) => `${old ?? '0'.repeat(to.length)} ${to} ${this.ident} ${gitTimestamp()}\t${oneLine(message)}\n`;
      for (const { update, old } of locked) {
        if (old === update.to) continue;
        if (update.ref.startsWith('refs/heads/')) appendIfPresent(path.join(this.commonDir, 'logs', update.ref), line(old, update.to));
        if (this.headPointsAt(update.ref)) appendIfPresent(path.join(this.gitDir, 'logs', 'HEAD'), line(old, update.to));
      }
    } catch {
      return bail(release);
    }
    // Branches last: a failure part way leaves the run branch where it was, and git redoes the rest.
    locked.sort((a, b) => Number(a.update.ref.startsWith('refs/heads/')) - Number(b.update.ref.startsWith('refs/heads/')));
    for (let i = 0; i < locked.length; i++) {
      try {
        locked[i]!.lock.commit();
      } catch {
        for (const l of locked.slice(i)) l.lock.release();
        return false;
      }
    }
    return true;
  }

  /** The loose ref's path, its folders made; null when they are not plain folders of this repository. */
  private refFile(ref: string): string | null {
    const parts = ref.split('/');
    let dir = this.commonDir;
    try {
      // Folder by folder, never through a link: one would put the ref (and its lock) outside.
      for (const part of parts.slice(0, -1)) {
        dir = path.join(dir, part);
        const stat = lstatSync(dir, { throwIfNoEntry: false });
        if (stat === undefined) mkdirSync(dir);
        else if (!stat.isDirectory()) return null;
      }
      const file = path.join(dir, parts.at(-1)!);
      const stat = lstatSync(file, { throwIfNoEntry: false });
      return stat === undefined || stat.isFile() ? file : null;
    } catch {
      return null;
    }
  }

  /** The ref's sha; null when it does not exist; undefined when it is something else (a symbolic ref). */
  private readRef(ref: string, file: string): string | null | undefined {
    let loose: string | null = null;
    // A new tag has no file yet: looked for first, so that the usual absence builds no exception (decisions 86).
    if (existsSync(file)) {
      try {
        loose = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
      }
    }
    if (loose !== null) {
      const sha = loose.trim();
      return SHA.test(sha) ? sha : undefined;
    }
    const packed = this.packedRefs();
    if (packed === undefined) return undefined;
    const sha = packed.get(ref);
    if (sha === undefined) return null;
    return SHA.test(sha) ? sha : undefined;
  }

  /**
   * packed-refs by name; empty when there is none, undefined when it cannot be read. Parsed again
   * only when the file changed (git replaces it whole): after `gc` packs a run's thousands of
   * `failed/` tags, each new tag looked its name up in the whole file.
   */
  private packedRefs(): Map<string, string> | undefined {
    const file = path.join(this.commonDir, 'packed-refs');
    try {
      const identity = fileIdentity(file);
      if (identity === null) {
        this.packed = null;
        return new Map();
      }
      if (this.packed?.identity === identity) return this.packed.refs;
      const refs = new Map<string, string>();
      for (const entry of readFileSync(file, 'utf8').split('\n')) {
        // "<sha> <name>"; "#" heads the file, "^" peels the tag above.
        if (entry === '' || entry.startsWith('#') || entry.startsWith('^')) continue;
        const space = entry.indexOf(' ');
        if (space > 0) refs.set(entry.slice(space + 1), entry.slice(0, space));
      }
      // Read between two stats that agree: a file replaced meanwhile is read again next time.
      this.packed = fileIdentity(file) === identity ? { identity, refs } : null;
      return refs;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : undefined;
    }
  }

  private packed: { identity: string; refs: Map<string, string> } | null = null;

  private headPointsAt(ref: string): boolean {
    try {
      return readFileSync(path.join(this.gitDir, 'HEAD'), 'utf8').trim() === `ref: ${ref}`;
    } catch {
      return false;
    }
  }
}

/** What changes whenever git replaces or rewrites a file; null when there is none (most repositories have no packed-refs until a gc). */
function fileIdentity(file: string): string | null {
  const info = statSync(file, { bigint: true, throwIfNoEntry: false });
  return info === undefined ? null : `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
}

/** This repository's own git folder (per worktree) and the folder its refs live in, or null. */
export async function gitDirs(git: Git): Promise<{ gitDir: string; commonDir: string; top: string } | null> {
  const result = await git.run(['rev-parse', '--absolute-git-dir', '--git-common-dir', '--show-toplevel'], { allowFail: true });
  const [gitDir, common, top] = result.stdout.replace(/\n$/, '').split('\n');
  if (result.exitCode !== 0 || !gitDir || !common || !top) return null;
  return { gitDir, commonDir: path.resolve(git.cwd, common), top };
}

function bail(release: () => void): false {
  release();
  return false;
}

/** crucible's own names only: no empty, dot or lock components, nothing git's check-ref-format refuses that could matter here. */
function validName(ref: string): boolean {
  if (!/^refs\/(heads|tags)\/./.test(ref) || /[\s\0~^:?*[\\\x7f]|\.\.|@\{|\/\/|\/$|\.lock(\/|$)|\/\./.test(ref)) return false;
  return !ref.endsWith('.');
}

function appendIfPresent(file: string, line: string): void {
  if (existsSync(file)) appendFileSync(file, line);
}

/** "1733371234 +0100": seconds and the local offset, as git writes them. */
export function gitTimestamp(now = new Date()): string {
  const offset = -now.getTimezoneOffset();
  const abs = Math.abs(offset);
  return `${Math.floor(now.getTime() / 1000)} ${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}
