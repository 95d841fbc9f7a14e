import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { agentRecord, createTinyProject, findInconsistencies, killLeftovers, planAgent, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * Where each agent's turn starts: at its parent, whatever came before. The lane's worktree is moved
 * to the incumbent while the previous experiment's eval runs (decisions 72), so a kept trial
 * moves it on again, and a turn that failed after writing files leaves nothing to the next.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe("an agent's turn starts at its parent", () => {
  it('after keeps, discards and a failed turn that left a file behind', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ agents: 1 }' });
    project = p;
    planAgent(p, {
      1: { x: 20 },
      2: { x: 5 },
      3: { x: 30 },
      4: { write: { 'junk.txt': 'left by a failed turn\n' }, x: 99, fail: true },
      5: { x: 10 },
      6: { x: 40 },
    });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 6 });

    expect([1, 2, 3, 4, 5, 6].map((n) => rowOf(p.dir, 't', n)?.['status'])).toEqual(['keep', 'discard', 'keep', 'agent-error', 'discard', 'keep']);
    const saw = (n: number): string | undefined => /X = ([^;]*);/.exec(agentRecord(p, n)?.solution ?? '')?.[1];
    expect([1, 2, 3, 4, 5, 6].map(saw)).toEqual(['1', '20', '20', '30', '30', '30']);
    expect(agentRecord(p, 5)?.entries).not.toContain('junk.txt');
    expect(agentRecord(p, 6)?.entries).not.toContain('junk.txt');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
