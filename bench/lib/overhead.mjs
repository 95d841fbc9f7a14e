import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { installGitShim } from './git-shim.mjs';
import { tally } from './render.mjs';
import { mean, median, round, summarize } from './stats.mjs';

/** Per-trial overhead (totalMs − agentMs − runMs) of a timed run: its two ends, its growth, by outcome. */
export function analyseOverhead(trials) {
  const overheadOf = (list) => list.map((t) => t.overheadMs);
  const first = trials.slice(0, 100);
  const last = trials.slice(-100);
  const byOutcome = {};
  for (const outcome of new Set(trials.map((t) => t.outcome))) byOutcome[outcome] = summarize(overheadOf(trials.filter((t) => t.outcome === outcome)));
  return {
    first: summarize(overheadOf(first)),
    total: summarize(overheadOf(trials)),
    last: summarize(overheadOf(last)),
    growth: round(mean(overheadOf(last)) / mean(overheadOf(first)), 3),
    // The median ratio shrugs off a burst of load from other processes on a shared machine.
    growthMedian: round(median(overheadOf(last)) / median(overheadOf(first)), 3),
    keep: summarize(overheadOf(trials.filter((t) => t.outcome === 'keep'))),
    discard: summarize(overheadOf(trials.filter((t) => t.outcome === 'discard'))),
    by_outcome: byOutcome,
    // Mean of each block of 100 trials: the shape of any growth, not just its two ends.
    byHundred: Array.from({ length: Math.ceil(trials.length / 100) }, (_, i) => round(mean(overheadOf(trials.slice(i * 100, i * 100 + 100))))),
  };
}

/**
 * Git processes per trial, by outcome, in a short run of `trials` trials with a counting `git` on
 * PATH (bench/lib/git-shim.mjs). `agentType`: 'tuner', or null for the project's own agent.
 */
export async function countGitSpawns(startRun, { projectDir, shimDir, trials, env, stopSignal, agentType }) {
  const shim = installGitShim(shimDir);
  const perTrial = [];
  let before = 0;
  await startRun({
    projectDir,
    tag: 'count',
    ...(agentType === null ? {} : { agentType }),
    maxIterations: trials,
    env: { ...env, ...shim.env },
    stopSignal,
    reporter: {
      trialStart() {
        before = shim.calls().length;
      },
      trialEnd(summary) {
        const calls = shim.calls().slice(before);
        if (summary.outcome !== 'baseline') perTrial.push({ outcome: summary.outcome, calls });
      },
    },
  });
  const all = shim.calls();
  if (all.length === 0) throw new Error('the counting git shim saw no call: crucible did not use git from PATH');
  const byOutcome = {};
  for (const outcome of new Set(perTrial.map((t) => t.outcome))) {
    const list = perTrial.filter((t) => t.outcome === outcome);
    const counts = list.map((t) => t.calls.length);
    byOutcome[outcome] = { trials: list.length, mean: round(mean(counts), 1), min: Math.min(...counts), max: Math.max(...counts), commands: tally(list.at(-1).calls) };
  }
  const inTrials = perTrial.reduce((sum, t) => sum + t.calls.length, 0);
  return { trials: perTrial.length, total: all.length, outside_trials: all.length - inTrials, per_outcome: byOutcome };
}

/**
 * Builds commit `ref` of the repository at `repoRoot` into `dir` (git archive, the checkout's
 * node_modules linked, `npm run build`): the baseline measured in the same run. Returns its dist/.
 */
export function buildRef(repoRoot, ref, dir) {
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', ref], { cwd: repoRoot, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'index.js'))) throw new Error(`building ${ref} wrote no ${dist}/index.js`);
  return dist;
}
