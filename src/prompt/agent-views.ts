import type { InFlightTrial, TrialView } from '../agents/types.js';

/**
 * The run's trials as an agent may see them: every text that came from outside crucible (the
 * agent's description, the crash report, the diff) passed through `redact`, which removes hidden
 * text. Applied where history leaves for an agent, so trials read back from the ledger (a resumed
 * run, a recovered trial) are covered too, while the ledger itself keeps the raw report.
 */
export function agentViews(history: readonly TrialView[], redact: (text: string) => string): TrialView[] {
  let views = viewCache.get(redact);
  if (views === undefined) {
    views = new WeakMap();
    viewCache.set(redact, views);
  }
  const known = views;
  return history.map((t) => {
    let view = known.get(t);
    if (view === undefined) {
      view = viewOf(t, redact);
      known.set(t, view);
    }
    return view;
  });
}

/**
 * `agentViews` of the run's history in trial order (ties in the order they were added). A run's
 * history only grows (a trial's record is pushed when it ends, in any order): each call views and
 * places only the trials added since the last call on the same array, where every proposal used
 * to copy, sort and look up the whole history, 3.5 ms a trial by 10,000 trials. A new array, or
 * one whose last record is not the one seen, is taken whole. The caller gets a copy to keep.
 */
export function sortedAgentViews(history: readonly TrialView[], redact: (text: string) => string): TrialView[] {
  let sorted = sortedCache.get(history);
  if (sorted === undefined || sorted.redact !== redact || sorted.seen > history.length || (sorted.seen > 0 && history[sorted.seen - 1] !== sorted.last)) {
    sorted = { redact, seen: 0, last: undefined, views: [] };
    sortedCache.set(history, sorted);
  }
  const { views } = sorted;
  for (const view of agentViews(history.slice(sorted.seen), redact)) {
    let at = views.length;
    while (at > 0 && views[at - 1]!.trial > view.trial) at -= 1;
    views.splice(at, 0, view);
  }
  sorted.seen = history.length;
  sorted.last = history.at(-1);
  return views.slice();
}

const sortedCache = new WeakMap<readonly TrialView[], { redact: (text: string) => string; seen: number; last: TrialView | undefined; views: TrialView[] }>();

// Every trial's view was redacted again for every prompt: thousands of trials into a run, that was
// the part of a trial that grew with the run. A trial's record never changes once it is in the
// history, and a run's redactor never changes either, so each view is made once per redactor.
// Frozen: a view is shared by every prompt after it.
const viewCache = new WeakMap<(text: string) => string, WeakMap<TrialView, TrialView>>();

/**
 * A trial's view, its texts redacted when first read: a session's first proposal views every
 * trial of the run, and most agents read few of their texts (the tuner only the descriptions, a
 * prompt the diffs and notes of its last trials), so a resumed run of 4,000 trials no longer
 * redacts every diff before its first trial (decisions 84).
 */
function viewOf(t: TrialView, redact: (text: string) => string): TrialView {
  const view = { trial: t.trial, outcome: t.outcome, metric: t.metric } as TrialView;
  redactedOnRead(view, 'description', t.description, redact);
  if (t.detail) redactedOnRead(view, 'detail', t.detail, redact);
  if (t.diff) redactedOnRead(view, 'diff', t.diff, redact);
  return Object.freeze(view);
}

/**
 * Whether `t` shows a diff, without redacting it: the prompt's digest asks this of every trial
 * and reads only the last three diffs. A redacted diff is never empty when its source is not
 * (hidden lines become a marker).
 */
export function hasDiff(t: TrialView): boolean {
  // A view has the accessor only when its record has a diff (viewOf); a plain record, its value.
  const field = Object.getOwnPropertyDescriptor(t, 'diff');
  return field !== undefined && (field.get !== undefined || Boolean(field.value));
}

function redactedOnRead(view: TrialView, key: 'description' | 'detail' | 'diff', raw: string, redact: (text: string) => string): void {
  let redacted: string | undefined;
  Object.defineProperty(view, key, { enumerable: true, get: () => (redacted ??= redact(raw)) });
}

/** The trials in flight as an agent may see them (prompt and `ProposalRequest.inFlight`), redacted the same way. */
export function inFlightViews(inFlight: readonly InFlightTrial[], redact: (text: string) => string): InFlightTrial[] {
  return inFlight.map((t) => ({
    trial: t.trial,
    description: redact(t.description),
    files: [...t.files],
    ...(t.diff ? { diff: redact(t.diff) } : {}),
  }));
}
