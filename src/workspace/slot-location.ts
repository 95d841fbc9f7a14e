import { appendFile, chmod, lstat, mkdir, readdir, readFile, realpath, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ProjectError } from '../errors.js';
import type { Git } from './git.js';
import { literalPattern } from './sparse-patterns.js';

/**
 * Where experiment slots live, and how crucible finds and removes them again.
 *
 * Slots sit inside the project, at `<project>/.crucible/slots/<k>/`, so that whatever sees the
 * project sees them (a cluster's compute nodes on a shared file system). That folder is crucible's:
 * a slot is recognised by its registration in the project's repository naming exactly that path,
 * and nothing is deleted or written through a symbolic link planted at `.crucible`, at
 * `.crucible/slots` or in place of a slot.
 */

const SLOTS_FOLDER = '.crucible/slots';

/** A slot's registration in the repository: its top folder and the number in its name. */
export interface SlotRecord {
  top: string;
  index: number;
  /** The slot's own git folder (its registration). */
  gitDir: string;
}

/**
 * The real path of `<project>/.crucible/slots`, made when missing and `create` is set; null when
 * it is missing and not made. Refuses (ProjectError) a link or a file where a folder belongs:
 * whoever put it there, crucible must not write or delete through it.
 */
export async function slotsRoot(projectDir: string, create: boolean): Promise<string | null> {
  let dir = projectDir;
  for (const name of SLOTS_FOLDER.split('/')) {
    dir = path.join(dir, name);
    const info = await lstat(dir).catch(() => null);
    if (info?.isDirectory()) continue;
    if (info) {
      throw new ProjectError(`${path.relative(projectDir, dir)} is ${info.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}, where crucible keeps its experiment slots; left as it is`, {
        hints: [`Remove it (crucible makes the folder itself), then run again.`],
      });
    }
    if (!create) return null;
    await mkdir(dir);
  }
  if ((await realpath(dir)) !== dir) throw new ProjectError(`${dir} is not where its path says (a link on the way); left as it is`);
  return dir;
}

/**
 * Adds `/<prefix>/.crucible/slots/` to the repository's `info/exclude` (in its common git folder,
 * read by every worktree) once. Slots must never show in `git status` nor be swept into
 * `git add -A`; a .gitignore older than crucible's slots lacks the line, and changing it would
 * leave the user a modified tracked file. info/exclude is nobody's tracked file.
 */
export async function excludeSlots(commonDir: string, prefix: string): Promise<void> {
  const line = `${literalPattern(prefix === '' ? SLOTS_FOLDER : `${prefix}/${SLOTS_FOLDER}`)}/`;
  const file = path.join(commonDir, 'info', 'exclude');
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  if (text.split(/\r?\n/).includes(line)) return;
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`, 'utf8');
}

/**
 * The repository's worktree registrations (`<common dir>/worktrees/<name>/gitdir`, as
 * gitrepository-layout(5) documents them) whose folder is `<root>/<k>`: the slots of this
 * project, of this run or of one that was killed.
 */
export async function listSlotRecords(commonDir: string, root: string): Promise<SlotRecord[]> {
  const records = path.join(commonDir, 'worktrees');
  const found: SlotRecord[] = [];
  for (const name of await readdir(records).catch(() => [])) {
    const gitFile = (await readFile(path.join(records, name, 'gitdir'), 'utf8').catch(() => '')).trim();
    const top = path.dirname(gitFile);
    if (!path.isAbsolute(gitFile) || path.dirname(top) !== root || !/^[1-9]\d*$/.test(path.basename(top))) continue;
    found.push({ top, index: Number(path.basename(top)), gitDir: path.join(records, name) });
  }
  return found;
}

/**
 * Deletes the slot folder `top` (a direct child of `root`) and then its registration; returns
 * false, touching nothing, when it cannot say the folder is crucible's: `root` is not a real
 * folder, or `top` is something else than a folder or a link. A link in place of the slot is
 * removed itself, never what it points to.
 */
export async function removeSlotFolder(projectGit: Git, root: string, top: string): Promise<boolean> {
  if (path.dirname(top) !== root) return false;
  // With no slots folder at all there is nothing to delete, only a registration to drop.
  const rootMissing = (await lstat(root).catch(() => null)) === null;
  if (!rootMissing && !(await isRealFolder(root))) return false;
  const info = rootMissing ? null : await lstat(top).catch(() => null);
  if (info?.isSymbolicLink()) await unlink(top);
  else if (info?.isDirectory()) {
    if ((await realpath(top)) !== top) return false;
    await rm(top, { recursive: true, force: true }).catch(async (error: NodeJS.ErrnoException) => {
      // An experiment may leave folders without write permission (a read-only cache): rm cannot
      // empty them until they are the user's to write again.
      if (error.code !== 'EACCES' && error.code !== 'EPERM') throw error;
      await makeFoldersWritable(top);
      await rm(top, { recursive: true, force: true });
    });
  } else if (info) return false;
  // Only once the folder is gone: `git worktree remove` deletes the folder it is given, and on a
  // missing one it drops exactly this registration (locked or not), unlike `git worktree prune`.
  if (await lstat(top).catch(() => null)) return false;
  await projectGit.run(['worktree', 'remove', '--force', '--force', top], { allowFail: true });
  return true;
}

/**
 * Removes every slot of `root` registered in the repository, and what an interrupted
 * `git worktree add` may leave (a folder holding nothing but its `.git` file). A folder that is
 * not crucible's stays, and so does its name: opening a slot there then refuses.
 */
export async function removeSlots(projectGit: Git, commonDir: string, root: string): Promise<void> {
  for (const record of await listSlotRecords(commonDir, root)) await removeSlotFolder(projectGit, root, record.top);
  if (!(await isRealFolder(root))) return;
  for (const name of await readdir(root)) {
    const top = path.join(root, name);
    const info = await lstat(top).catch(() => null);
    if (!info?.isDirectory() || !/^[1-9]\d*$/.test(name)) continue;
    const entries = await readdir(top);
    if (entries.every((entry) => entry === '.git')) await rm(top, { recursive: true, force: true });
  }
}

async function isRealFolder(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => null);
  return info !== null && info.isDirectory() && (await realpath(dir).catch(() => null)) === dir;
}

/** Gives the user write access to every folder below `dir` (links are not followed). */
async function makeFoldersWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await makeFoldersWritable(path.join(dir, entry.name));
  }
}

/**
 * The `.git` git writes into a new worktree names the project's repository, and a slot without
 * any `.git` is worse: it lies inside the project, so git run there would walk up to the
 * project's own. A `.git` naming no repository stops that walk: git run by an experiment in a
 * slot fails ("not a git repository") instead of reaching the project's history and branches.
 * crucible's own git commands name the slot's git folder explicitly.
 */
const DEAD_END = 'gitdir: /dev/null\n';

export async function writeDeadEnd(top: string): Promise<void> {
  const file = path.join(top, '.git');
  const info = await lstat(file).catch(() => null);
  if (info?.isFile() && (await readFile(file, 'utf8')) === DEAD_END) return;
  // rm removes a link or a planted repository itself, never what a link points to.
  if (info) await rm(file, { recursive: true, force: true });
  await writeFile(file, DEAD_END, { flag: 'wx' });
}
