import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, findInconsistencies, ledgerEvents, planAgent, rowOf, runCli, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * Decisions that noise cannot fool, end to end through the built CLI with every evaluation key at
 * its default, on the synthetic noisy experiment (score X plus seeded Gaussian noise of sd 1): the
 * baseline is measured three times and `status --json` shows its spread; changes of +3 noise
 * widths are kept after confirmation beside the incumbent; changes of the file that leave the
 * true value as it is are not. The draws are seeded: the run replays exactly. (How often each
 * happens over hundreds of trials: `npm run bench:noise`.)
 */

const fixture = fileURLToPath(new URL('../fixtures/noisy-experiment.mjs', import.meta.url));
const score = "(await import(new URL('noisy-experiment.mjs', ctl))).measure(X, ctl)";

interface End {
  outcome: string;
  samples?: number[];
  incumbentSamples?: number[];
  margin?: number;
  p?: number;
}

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

describe('a noisy project with the default evaluation settings', () => {
  it('measures the baseline three times, keeps the +3σ changes after confirming them and not the 0-gain ones', async () => {
    // `{}`: every evaluation key at its default (the tiny projects otherwise turn confirmation off).
    const p = createTinyProject({ agent: 'command', evaluation: '{}', score });
    project = p;
    copyFileSync(fixture, path.join(p.ctl, 'noisy-experiment.mjs'));
    setKnob(p, 'noise-seed', 3);
    planAgent(p, {
      1: { write: { 'solution.js': 'export const X = 1; // the same value, written differently\n' }, say: 'gain 0' },
      2: { x: 4, say: 'gain +3' },
      3: { write: { 'solution.js': 'export const X = 4; // the same value, written differently\n' }, say: 'gain 0' },
      4: { x: 7, say: 'gain +3' },
    });

    const run = await runCli(p, ['run', '--tag', 't', '-n', '4']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);

    const ends = new Map(ledgerEvents(p.dir, 't').flatMap((e) => (e.type === 'trial.end' && e.n !== undefined ? [[e.n, e['summary'] as End]] : [])));
    expect(ends.get(0)?.samples).toHaveLength(3);
    expect(rowOf(p.dir, 't', 0)?.['measurements']).toBe('3');
    for (const n of [2, 4]) {
      const end = ends.get(n)!;
      expect(end.outcome, `trial ${n} (+3σ)`).toBe('keep');
      // Confirmed: measured again beside the incumbent, with a significant margin.
      expect(end.incumbentSamples?.length, `trial ${n}'s incumbent runs`).toBeGreaterThanOrEqual(1);
      expect(end.samples?.length).toBe((end.incumbentSamples?.length ?? 0) + 1);
      expect(end.margin).toBeGreaterThan(1);
      expect(end.p).toBeLessThanOrEqual(0.05);
    }
    for (const n of [1, 3]) expect(ends.get(n)?.outcome, `trial ${n} (gain 0)`).toBe('discard');
    expect(git(p.dir, 'show', 'crucible/t:solution.js')).toContain('X = 7;');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);

    const status = await runCli(p, ['status', '--json', '--tag', 't']);
    expect(status.code).toBe(0);
    const noise = (JSON.parse(status.stdout) as { noise: { n: number; sd: number; cv: number | null } | null }).noise;
    expect(noise?.n).toBe(3);
    expect(noise?.sd).toBeGreaterThan(0);
  });
});
