import type { TrialSummary } from '../core/trial-record.js';
import { foldRun } from '../store/fold-run.js';
import type { LedgerEvent } from '../store/ledger.js';

/** The run's finished trials, from the `trial.end` events of its ledger, in trial order. */
export function historyFromLedger(events: readonly LedgerEvent[]): TrialSummary[] {
  return foldRun(events).history;
}

/** The number of the next trial: one more than any trial the ledger names. */
export function nextTrialNumber(events: readonly LedgerEvent[]): number {
  return foldRun(events).nextTrial;
}
