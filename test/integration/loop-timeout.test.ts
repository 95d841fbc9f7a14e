import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import {
  createTinyProject,
  experimentPids,
  findInconsistencies,
  grandchildOf,
  isProcessAlive,
  killLeftovers,
  rowOf,
  setKnob,
  type TinyProject,
} from '../helpers/project.js';

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('an experiment past its time limit', () => {
  it('is a crash that says "timed out", and its whole process group is killed, SIGTERM-proof grandchild included', async () => {
    const p = createTinyProject({ timeoutSeconds: 1 });
    project = p;
    // Only trial 1 hangs: its experiment leaves a grandchild that ignores SIGTERM, then sleeps.
    setKnob(p, 'grandchild.1', 1);
    setKnob(p, 'sleep-ms.1', 30_000);
    const base = git(p.dir, 'rev-parse', 'HEAD');

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1, killGraceMs: 200 });

    const trial = report.history.find((t) => t.trial === 1);
    expect(trial).toMatchObject({ outcome: 'crash', metric: null });
    expect(trial?.detail).toMatch(/timed out/);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'crash', metric_value: '' });
    const grandchild = grandchildOf(p);
    // Each recorded with its start time, so that a recycled pid cannot pass for it.
    expect(grandchild?.start).toMatch(/^\d+$/);
    expect(isProcessAlive(grandchild!)).toBe(false);
    for (const experiment of experimentPids(p)) {
      expect(experiment.start).toMatch(/^\d+$/);
      expect(isProcessAlive(experiment)).toBe(false);
    }
    // The crashed change is not built upon.
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(base);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
