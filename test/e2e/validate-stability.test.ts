import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, createTinyProject, runCli, setKnob, type TinyProject } from '../helpers/project.js';

// The tiny project's score is 100·X (X = 1 in solution.js) plus seeded Gaussian noise of sd
// ctl/noise-sd: the synthetic noisy experiment of test/fixtures/noisy-experiment.mjs.
const fixture = fileURLToPath(new URL('../fixtures/noisy-experiment.mjs', import.meta.url));
const score = "(await import(new URL('noisy-experiment.mjs', ctl))).measure(100 * X, ctl)";

let project: TinyProject;
function noisyProject(sd: number): TinyProject {
  project = createTinyProject({ score });
  copyFileSync(fixture, path.join(project.ctl, 'noisy-experiment.mjs'));
  setKnob(project, 'noise-sd', sd);
  return project;
}
const runsSoFar = (p: TinyProject): number => Number(readFileSync(path.join(p.ctl, 'noise-runs'), 'utf8'));

beforeAll(() => checkCliBuilt());
afterEach(() => project?.cleanup());

describe('crucible validate --stability', () => {
  it('runs the experiment N times, prints mean, sd and CV, warns at CV ≥ 5% and recommends a configuration', async () => {
    const p = noisyProject(10);
    const result = await runCli(p, ['validate', '--stability', '--runs', '6']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(runsSoFar(p)).toBe(6);
    expect(result.stdout).toMatch(/\[WARN\] Stability: mean [\d.]+, sd [\d.]+, CV \d+\.\d% over 6 runs: single measurements cannot be trusted/);
    expect(result.stdout.match(/Values: (.*)/)![1]!.split(', ')).toHaveLength(6);
    expect(result.stdout).toContain('[PASS] Recommended: evaluation.repeats: 3');
  });

  it('passes a steady metric and says it is deterministic', async () => {
    const p = noisyProject(0);
    const result = await runCli(p, ['validate', '--stability']);
    expect(result.code).toBe(0);
    expect(runsSoFar(p)).toBe(5);
    expect(result.stdout).toContain('[PASS] Stability: mean 100, sd 0, CV 0.0% over 5 runs');
    expect(result.stdout).toContain('the metric is deterministic');
  });

  it('fails when a repeated run gives no metric', async () => {
    const p = noisyProject(1);
    setKnob(p, 'noise-fail-at', 3);
    const result = await runCli(p, ['validate', '--stability', '--runs', '4']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\[FAIL\] Noise: run 3 of 4 gave no metric/);
  });

  it.each([
    [['validate', '--runs', '3'], 'error: --runs needs --stability'],
    [['validate', '--stability', '--runs', '1'], 'error: validate --runs must be 2 or more: one run has no spread'],
  ])('%j is a usage error (exit 2), and runs nothing', async (args, message) => {
    const p = noisyProject(1);
    const result = await runCli(p, args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')[0]).toBe(message);
    expect(() => runsSoFar(p)).toThrow();
  });
});

describe('plain crucible validate', () => {
  it('runs a quick experiment three times and warns when its CV is 5% or more', async () => {
    // Three runs of seed 1 happen to spread little: sd 30 makes the CV about 10%.
    const p = noisyProject(30);
    const result = await runCli(p, ['validate']);
    expect(result.code).toBe(0);
    expect(runsSoFar(p)).toBe(3);
    expect(result.stdout).toMatch(/\[WARN\] Noise: mean [\d.]+, sd [\d.]+, CV \d+\.\d% over 3 runs/);
    expect(result.stdout).toContain('crucible validate --stability --runs 10');
  });

  it('passes a quiet one', async () => {
    const p = noisyProject(0.1);
    const result = await runCli(p, ['validate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\[PASS\] Noise: mean [\d.]+, sd 0\.\d+, CV 0\.\d% over 3 runs/);
  });
});
