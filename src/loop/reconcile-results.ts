import { foldRun } from '../store/fold-run.js';
import { readLedger, type LedgerEvent } from '../store/ledger.js';
import type { ResultRow } from '../store/result-row.js';
import { rowsOfView } from '../store/result-row-of.js';
import type { ResultsFile } from '../store/results-file.js';
import { listRunTags, runPaths } from '../store/run-paths.js';

/**
 * results.tsv is a rendering of the ledgers, and the ledger wins: a row missing (the file deleted
 * or cut short), one the ledger does not back (a forged keep) or one that disagrees with it is
 * put right when a run opens. `expected`: the rows of run `tag`'s ledger (rowsFromLedger). Returns
 * the tags whose rows were rewritten.
 */
export async function reconcileResults(results: ResultsFile, projectDir: string, tag: string, expected: readonly ResultRow[]): Promise<string[]> {
  const fixed: string[] = [];
  // A file with no rows at all was deleted (or never written): every run's rows come back.
  if (results.rows().length === 0) {
    for (const other of await listRunTags(projectDir)) {
      if (other === tag) continue;
      const rows = rowsFromLedger(other, await readLedger(runPaths(projectDir, other).ledger));
      if (rows.length === 0) continue;
      results.replaceRows(other, rows);
      fixed.push(other);
    }
  }
  if (!sameRows(results.rows(tag), expected)) {
    results.replaceRows(tag, [...expected]);
    fixed.push(tag);
  }
  return fixed;
}

/** The rows the ledger's finished trials stand for, in trial order. */
export function rowsFromLedger(tag: string, events: readonly LedgerEvent[]): ResultRow[] {
  return rowsOfView(tag, foldRun(events));
}

function sameRows(actual: readonly ResultRow[], expected: readonly ResultRow[]): boolean {
  if (actual.length !== expected.length) return false;
  const byTrial = new Map(actual.map((row) => [row.trial, row]));
  return expected.every((want) => {
    const have = byTrial.get(want.trial);
    return have !== undefined && have.status === want.status && have.commit === want.commit && have.metric === want.metric;
  });
}
