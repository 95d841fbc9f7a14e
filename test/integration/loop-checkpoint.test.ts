import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { foldRun } from '../../src/store/fold-run.js';
import { readLedger } from '../../src/store/ledger.js';
import { readRunRecord } from '../../src/store/read-run.js';
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
    const pending: Promise<void>[] = [];
    const reporter = {
      trialEnd: (summary: { trial: number }) => {
        const record = readRunRecord(p.dir, 't')!;
        pending.push(wholeRows(p.dir).then((rows) => void seen.push({ trial: summary.trial, throughCheckpoint: record.view === null, same: JSON.stringify(rows) === JSON.stringify(record.rows) })));
      },
    };
    // A checkpoint after every trial, over two sessions (the second starts from none of its own).
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3, reporter, checkpointEveryBytes: 1 });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2, reporter, checkpointEveryBytes: 1 });
    await Promise.all(pending);

    expect(seen.map((s) => s.trial)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen.filter((s) => !s.throughCheckpoint || !s.same)).toEqual([]);
    const after = readRunRecord(p.dir, 't')!;
    expect(after.view).toBeNull();
    expect(after.rows).toEqual(await wholeRows(p.dir));
    expect(after.rows.map((row) => row.status)).toEqual(['baseline', 'keep', 'discard', 'crash', 'agent-error', 'keep']);
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
