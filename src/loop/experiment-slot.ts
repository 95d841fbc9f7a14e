import type { SandboxWrap } from '../runner/spawn-args.js';
import type { SlotWorktree } from '../workspace/slot-worktree.js';

/**
 * Room for one experiment at a time. With one worker it is the project folder itself (slot 0):
 * the run branch is moved to the commit under test and back, as it always was. With more, each
 * slot is a worktree of its own and the project folder moves only when the incumbent changes.
 */
export interface ExperimentSlot {
  readonly index: number;
  /** Where the experiment's commands run: the project folder or its counterpart in the slot. */
  readonly dir: string;
  /** Variables this slot's experiments get besides the run's: CRUCIBLE_SLOT, CUDA_VISIBLE_DEVICES. */
  readonly env: Readonly<Record<string, string>>;
  readonly sandbox: SandboxWrap | null;
  /** null for the project folder. */
  readonly folder: SlotWorktree | null;
}

export function inProject(slot: ExperimentSlot): boolean {
  return slot.folder === null;
}
