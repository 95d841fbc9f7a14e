import type { LedgerEvent } from '../store/ledger.js';

/**
 * Where the run branch must be when a run resumes, from the ledger: the commit of the last kept
 * trial (or the baseline's), else the commit the last ended trial started from. null when the
 * last trial did not end (the recovery decides, from that trial's own events) or nothing started.
 */
export function expectedHeadAtResume(events: readonly LedgerEvent[]): string | null {
  let lastStart: LedgerEvent | undefined;
  for (const event of events) if (event.type === 'trial.start' && (lastStart === undefined || (event.n ?? -1) > (lastStart.n ?? -1))) lastStart = event;
  if (lastStart === undefined) return null;
  const end = events.findLast((e) => e.type === 'trial.end' && e.n === lastStart.n);
  if (end === undefined) return null;
  const summary = end['summary'] as { outcome?: unknown; commit?: unknown } | undefined;
  if ((summary?.outcome === 'keep' || summary?.outcome === 'baseline') && typeof summary.commit === 'string' && summary.commit !== '') return summary.commit;
  return typeof lastStart['parent'] === 'string' ? lastStart['parent'] : null;
}
