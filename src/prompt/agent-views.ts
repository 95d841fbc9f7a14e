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

// Every trial's view was redacted again for every prompt: thousands of trials into a run, that was
// the part of a trial that grew with the run. A trial's record never changes once it is in the
// history, and a run's redactor never changes either, so each view is made once per redactor.
// Frozen: a view is shared by every prompt after it.
const viewCache = new WeakMap<(text: string) => string, WeakMap<TrialView, TrialView>>();

function viewOf(t: TrialView, redact: (text: string) => string): TrialView {
  return Object.freeze({
    trial: t.trial,
    outcome: t.outcome,
    metric: t.metric,
    description: redact(t.description),
    ...(t.detail ? { detail: redact(t.detail) } : {}),
    ...(t.diff ? { diff: redact(t.diff) } : {}),
  });
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
