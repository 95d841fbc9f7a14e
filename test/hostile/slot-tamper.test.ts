import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, killLeftovers, planAgent, rowOf, shellSolution, type TinyProject } from '../helpers/project.js';

/**
 * An experiment in a slot holds the hidden harness (it must run it): one that rewrites it makes
 * its trial a violation, whatever it measured, and the next experiment in that slot gets the
 * harness back as git has it.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('an experiment that rewrites the harness in its slot', () => {
  it('is a violation, never a keep, and the slot is clean for the next one', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ workers: 2, agents: 1 }' });
    project = p;
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(50, "echo '// planted' >> evaluate.js") } }, 2: { x: 30 }, 3: { x: 40 } });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });

    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('violation');
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '30' });
    expect(rowOf(p.dir, 't', 3)).toMatchObject({ status: 'keep', metric_value: '40' });
    expect(git(p.dir, 'show', 'crucible/t:evaluate.js')).not.toContain('planted');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
