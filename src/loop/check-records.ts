import type { RunContext } from './run-context.js';
import { appendEvent } from '../store/ledger-events.js';

/**
 * An experiment (or a shell agent) runs arbitrary code where crucible keeps its records: it may
 * delete `.crucible/runs/`, run `git clean -fdx`, or append a forged line. After each of their
 * turns the records are compared with what this process wrote and put back from memory.
 */
export function checkRecords(ctx: Pick<RunContext, 'restoreRecords' | 'ledger' | 'reporter'>, during: string): void {
  const restored = ctx.restoreRecords();
  if (restored.length === 0) return;
  appendEvent(ctx.ledger, { type: 'records.restored', files: restored, during });
  ctx.reporter.warning?.(`${restored.join(', ')} ${restored.length === 1 ? 'was' : 'were'} deleted or changed ${during}; restored from what crucible holds`);
}
