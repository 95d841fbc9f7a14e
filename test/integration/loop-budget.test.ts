import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, findInconsistencies, killLeftovers, setKnob, type TinyProject } from '../helpers/project.js';

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('constraints.max_wall_time', () => {
  it('stops starting trials once the session has run that long, cleanly', async () => {
    const p = createTinyProject();
    project = p;
    const configFile = `${p.dir}/.crucible/config.yaml`;
    writeFileSync(configFile, readFileSync(configFile, 'utf8').replace('constraints:', 'constraints:\n  max_wall_time: 1'));
    execFileSync('git', ['commit', '-qam', 'limit the session to a second'], { cwd: p.dir, env: p.env });
    setKnob(p, 'sleep-ms', 400);

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 20 });

    expect(report.reason).toMatchObject({ kind: 'budget', limit: 'max_wall_time', allowed: 1 });
    expect(report.trials).toBeGreaterThanOrEqual(1);
    expect(report.trials).toBeLessThan(20);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
