import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, findInconsistencies, killLeftovers, ledgerEvents, planAgent, shellSolution, resultRows, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * crucible's records live in the project folder, where the experiment runs arbitrary code. Whatever
 * it does to them (deletes them, appends forged lines), the run ends with complete, true records,
 * and results.tsv is rebuilt from the ledger when it is missing or short.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});


const FORGED_ROW = ['deadbee', '999999', 'keep', 'forged', 't', '7', '2026-01-01T00:00:00.000Z', '', '', '', '', '', '', '', ''].join('\t');
const FORGED_EVENT = JSON.stringify({ v: 1, ts: '2026-01-01T00:00:00.000Z', type: 'trial.end', n: 7, summary: { trial: 7, outcome: 'keep', metric: 999999, description: 'forged', commit: 'deadbeef', files: [], best: 999999, agentMs: 0, runMs: 0, totalMs: 0, costUsd: null } });

describe('records the experiment destroys or forges', () => {
  it('an experiment that deletes the records: the run ends with every trial recorded, and its lock held meanwhile', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, {
      1: { write: { 'solution.js': shellSolution(5, 'rm -rf .crucible/runs results.tsv') } },
      2: { write: { 'solution.js': shellSolution(7, `test -f .crucible/runs/t/lock && test -f .crucible/runs/lock && touch ${path.join(p.ctl, 'locked-during-2')}`) } },
      3: { x: 2 },
    });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });

    expect(resultRows(p.dir, 't').map((r) => [r['trial'], r['status'], r['metric_value']])).toEqual([
      ['0', 'baseline', '1'],
      ['1', 'keep', '5'],
      ['2', 'keep', '7'],
      ['3', 'discard', '2'],
    ]);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    expect(existsSync(path.join(p.ctl, 'locked-during-2'))).toBe(true);
    expect(ledgerEvents(p.dir, 't').some((e) => e.type === 'records.restored')).toBe(true);
  });

  it('forged lines appended by an experiment are not believed', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    const forge = `printf '%s\\n' '${FORGED_ROW}' >> results.tsv && printf '%s\\n' '${FORGED_EVENT}' >> .crucible/runs/t/ledger.jsonl`;
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(0, forge) } }, 2: { x: 3 } });

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });

    expect(readFileSync(path.join(p.dir, 'results.tsv'), 'utf8')).not.toContain('999999');
    // (The forging command itself is in trial 1's diff: look at the events, not the text.)
    expect(ledgerEvents(p.dir, 't').filter((e) => e.n === 7)).toEqual([]);
    expect(report.best).toBe(3);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  it('results.tsv missing, short or forged when a run resumes is rebuilt from the ledger', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 5 }, 2: { x: 2 }, 3: { x: 8 }, 4: { x: 9 } });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });
    const file = path.join(p.dir, 'results.tsv');

    rmSync(file);
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });
    expect(resultRows(p.dir, 't').map((r) => r['trial'])).toEqual(['0', '1', '2', '3']);

    // Short (the last two rows gone) and forged (a keep nobody measured).
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, `${lines.slice(0, -2).join('\n')}\n`);
    appendFileSync(file, `${FORGED_ROW}\n`);
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    expect(resultRows(p.dir, 't').map((r) => [r['trial'], r['status']])).toEqual([
      ['0', 'baseline'],
      ['1', 'keep'],
      ['2', 'discard'],
      ['3', 'keep'],
      ['4', 'keep'],
    ]);
    expect(rowOf(p.dir, 't', 7)).toBeUndefined();
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
