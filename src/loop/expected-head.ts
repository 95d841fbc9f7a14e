import type { RunView } from '../store/fold-run.js';

/**
 * Where the run branch must be when a run resumes (greedy, `chain`): at the incumbent, the tip of the chain of kept
 * trials (the kept or baseline node no other kept node was measured on top of; trials end out of
 * order, so neither the last trial nor the last keep by number will do). Its parent when nothing
 * was kept; null when a trial did not end (the recovery decides, from each one's own events) or
 * nothing started.
 */
export function expectedHeadAtResume(view: RunView, chain = true): string | null {
  return view.inFlight.length > 0 ? null : restingHead(view, chain);
}

/** Where the run branch rests between trials, by the trials the ledger recorded (those in flight aside); null before any. */
export function restingHead(view: RunView, chain = true): string | null {
  if (view.trials.length === 0) return null;
  // Beyond greedy the tree has many kept nodes and the branch points at the best of them.
  if (!chain) return view.incumbent?.commit || (view.trials.at(-1)?.parent ?? null);
  const kept = view.trials.filter((t) => (t.outcome === 'keep' || t.outcome === 'baseline') && t.commit !== '');
  if (kept.length === 0) return view.trials.at(-1)?.parent ?? null;
  const builtUpon = new Set(kept.filter((t) => t.base !== null && t.base !== t.commit).map((t) => t.base));
  const tips = kept.filter((t) => !builtUpon.has(t.commit));
  return (tips.at(-1) ?? kept.at(-1)!).commit;
}
