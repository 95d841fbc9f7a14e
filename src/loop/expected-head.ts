import type { RunView } from '../store/fold-run.js';

/**
 * Where the run branch must be when a run resumes: the commit of the last trial if it was kept
 * (or is the baseline), else the commit it started from. null when the last trial did not end
 * (the recovery decides, from that trial's own events) or nothing started.
 */
export function expectedHeadAtResume(view: RunView): string | null {
  const last = view.trials.at(-1);
  if (last === undefined || !last.finished) return null;
  if ((last.outcome === 'keep' || last.outcome === 'baseline') && last.commit !== '') return last.commit;
  return last.parent;
}
