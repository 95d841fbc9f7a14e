import { readFile, realpath } from 'node:fs/promises';
import { createGit } from './git.js';
import { repoLayout } from './project-git.js';
import { listSlotRecords, slotsRoot } from './slot-location.js';
import { sharedLinks } from './slot-shared.js';
import { GitSlot, slotGit, type SlotWorktree } from './slot-worktree.js';

export interface ReopenSlotOptions {
  projectDir: string;
  /** 1..N, as the ledger's `run.start` recorded it. */
  index: number;
  /** The commit the killed run checked out there for its experiment (a full sha). */
  commit: string;
  /** files.shared, as for openSlots. */
  shared: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Slot `index` as a killed run left it, still holding `commit`: where that run's batch job ran (or
 * still runs), so that its result can be checked and decided as if the run had never stopped. null
 * when there is no such slot, it is not the real folder crucible made, or it holds another commit.
 * Nothing is changed: the slot is removed with the others when the next slots are opened.
 */
export async function reopenSlot(opts: ReopenSlotOptions): Promise<SlotWorktree | null> {
  const projectDir = await realpath(opts.projectDir);
  const root = await slotsRoot(projectDir, false);
  if (root === null) return null;
  const layout = await repoLayout(projectDir, { env: opts.env });
  const record = (await listSlotRecords(layout.commonDir, root)).find((r) => r.index === opts.index);
  if (!record || (await realpath(record.top).catch(() => null)) !== record.top) return null;
  // The slot's HEAD is detached at the commit crucible checked out; its git folder lies outside the slot.
  const head = (await readFile(`${record.gitDir}/HEAD`, 'utf8').catch(() => '')).trim();
  if (head !== opts.commit) return null;
  const projectGit = createGit(layout.top, { env: opts.env });
  const shared = await sharedLinks(projectDir, projectGit, layout.prefix, opts.commit, opts.shared);
  return new GitSlot({
    index: opts.index,
    root,
    projectDir,
    projectGit,
    commonDir: layout.commonDir,
    prefix: layout.prefix,
    commit: opts.commit,
    shared,
    env: opts.env,
    top: record.top,
    gitDir: record.gitDir,
    git: slotGit(record.top, record.gitDir, opts.env),
    fresh: false,
  });
}
