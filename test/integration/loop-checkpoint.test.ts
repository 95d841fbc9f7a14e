import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { foldRun, type RunView } from '../../src/store/fold-run.js';
import { readLedger } from '../../src/store/ledger.js';
import { readLedgerForFold, readRunRecord } from '../../src/store/read-run.js';
import { rowsOfView } from '../../src/store/result-row-of.js';
import { runPaths } from '../../src/store/run-paths.js';
import { createTinyProject, killLeftovers, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * A run keeps the read commands' checkpoint of its ledger as it grows (run-checkpoint.ts): what
 * they read through it is what the whole ledger says, during the run and after it; and an
 * experiment that writes its own checkpoint does not change what they read.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

async function wholeRows(dir: string): Promise<unknown> {
  return rowsOfView('t', foldRun(await readLedger(runPaths(dir, 't').ledger)));
}

/** The fold of the whole ledger, read synchronously (the reader's other path). */
function wholeViewNow(dir: string): RunView {
  return foldRun(readLedgerForFold(runPaths(dir, 't').ledger)!);
}

// An experiment (the agent's solution.js, imported by the harness) that writes a checkpoint
// matching the ledger as it stands, with a baseline of a million.
const FORGER = `import { readFileSync, writeFileSync } from 'node:fs';
const ledger = readFileSync('.crucible/runs/t/ledger.jsonl');
const columns = ['commit', 'metric', 'status', 'description', 'trial', 'timestamp', 'agentSeconds', 'runSeconds', 'totalSeconds', 'costUsd', 'inputTokens', 'outputTokens', 'cacheReadTokens', 'cacheWriteTokens', 'parent', 'base', 'slot', 'remeasureOf', 'measurements', 'samples', 'incumbentSamples', 'margin', 'p'];
const rows = [['0000000', 1000000, 'baseline', 'forged', 0, '2026-01-01T00:00:00.000Z', 0, 0, 0, null]];
const tail = ledger.subarray(Math.max(0, ledger.length - 4096)).toString('base64');
writeFileSync('.crucible/runs/t/checkpoint.json', JSON.stringify({ v: 1, tag: 't', bytes: ledger.length, tail, columns, rows, carried: [] }));
export const X = 2;
`;

describe('a run and its checkpoint', () => {
  it('keeps it as the ledger grows: every trial after it is read through it, and reads as the whole ledger', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 5 }, 2: { x: 2 }, 3: { x: 9 }, 4: { fail: true }, 5: { x: 8 } });
    setKnob(p, 'crash.3', 1);
    const seen: Array<{ trial: number; throughCheckpoint: boolean; same: boolean }> = [];
    const reporter = {
      // Both reads in one synchronous step: the run appends nothing in between.
      trialEnd: (summary: { trial: number }) => {
        const record = readRunRecord(p.dir, 't')!;
        const rows = rowsOfView('t', wholeViewNow(p.dir));
        seen.push({ trial: summary.trial, throughCheckpoint: record.view === null, same: JSON.stringify(rows) === JSON.stringify(record.rows) });
      },
    };
    // A checkpoint after every trial, over two sessions (the second starts from none of its own).
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3, reporter, checkpointEveryBytes: 1 });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2, reporter, checkpointEveryBytes: 1 });

    expect(seen.map((s) => s.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.filter((s) => !s.throughCheckpoint || !s.same)).toEqual([]);
    const after = readRunRecord(p.dir, 't')!;
    expect(after.view).toBeNull();
    expect(after.rows).toEqual(await wholeRows(p.dir));
    expect(after.rows.map((row) => row.status)).toEqual(['baseline', 'keep', 'discard', 'crash', 'agent-error', 'keep']);
  });

  it('keeps it with trials in flight across it (two slots, results out of order)', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ workers: 2 }' });
    project = p;
    // Turns of different lengths: trials end out of their order, and others are in flight at each end.
    const plan: Record<number, { x: number; sleepMs: number }> = {};
    for (let n = 1; n <= 8; n++) plan[n] = { x: 10 + n, sleepMs: n % 3 === 0 ? 400 : 50 };
    planAgent(p, plan);
    const seen: Array<{ trial: number; inFlight: number; throughCheckpoint: boolean; same: boolean }> = [];
    const reporter = {
      // Both reads in one synchronous step: the run appends nothing in between.
      trialEnd: (summary: { trial: number }) => {
        const record = readRunRecord(p.dir, 't')!;
        const view = wholeViewNow(p.dir);
        const same = JSON.stringify(rowsOfView('t', view)) === JSON.stringify(record.rows) && JSON.stringify(view.inFlight) === JSON.stringify(record.inFlight);
        seen.push({ trial: summary.trial, inFlight: record.inFlight.length, throughCheckpoint: record.view === null, same });
      },
    };

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 8, reporter, checkpointEveryBytes: 1 });

    // The baseline, the 8 proposals, and any of them measured again on a newer incumbent.
    const rows = readRunRecord(p.dir, 't')!.rows;
    expect(seen.length).toBe(rows.length);
    expect(seen.length).toBeGreaterThanOrEqual(9);
    expect(seen.filter((s) => !s.throughCheckpoint || !s.same)).toEqual([]);
    // Some checkpoints were written with trials in flight, which the next ones finished.
    expect(seen.some((s) => s.inFlight > 0)).toBe(true);
    expect(rows).toEqual(await wholeRows(p.dir));
  });

  it('puts back its checkpoint when an experiment writes one: the read commands never see the forgery', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { write: { 'solution.js': FORGER } }, 2: { x: 3 } });
    const baselines: Array<number | null> = [];
    const warnings: string[] = [];
    const reporter = {
      trialEnd: () => void baselines.push(readRunRecord(p.dir, 't')!.rows[0]?.metric ?? null),
      warning: (message: string) => void warnings.push(message),
    };

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2, reporter });

    // The baseline (X = 1) scores 1, whatever the forged checkpoint said, at every trial's end.
    expect(baselines).toEqual([1, 1, 1]);
    expect(warnings.some((w) => w.includes(path.join('.crucible', 'runs', 't', 'checkpoint.json')))).toBe(true);
    // The run's own, written at its end, is what the read commands go by now.
    expect(existsSync(runPaths(p.dir, 't').checkpoint)).toBe(true);
    expect(readRunRecord(p.dir, 't')!.view).toBeNull();
    expect(readRunRecord(p.dir, 't')!.rows).toEqual(await wholeRows(p.dir));
    rmSync(runPaths(p.dir, 't').checkpoint);
    expect(readRunRecord(p.dir, 't')!.view).not.toBeNull();
  });
});
