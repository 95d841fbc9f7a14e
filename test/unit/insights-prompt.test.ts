import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import { buildInsightsPrompt } from '../../src/report/insights-prompt.js';
import { analyzeRun } from '../../src/report/postmortem.js';
import type { ResultRow } from '../../src/store/result-row.js';

function row(trial: number, status: Outcome, metric: number | null, description = `idea ${trial}`): ResultRow {
  return {
    commit: status === 'skip' ? '' : `c${String(trial).padStart(6, '0')}`,
    metric,
    status,
    description,
    tag: 'run1',
    trial,
    timestamp: '2026-03-13T10:00:00Z',
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
  };
}

describe('buildInsightsPrompt', () => {
  const rows = [
    row(0, 'baseline', 10, '(unmodified code)'),
    row(1, 'discard', 9, 'try insertion sort'),
    row(2, 'keep', 15, 'use a typed array'),
    row(3, 'crash', null, 'broke the import'),
    row(4, 'crash', null, 'broke it again'),
    row(5, 'discard', 14, 'unroll the loop'),
    row(6, 'skip', null, 'no change'),
  ];
  const pm = analyzeRun(rows, 'maximize');
  const prompt = buildInsightsPrompt(pm, { metricName: 'ops_per_sec', experiment: { name: 'sorting', description: 'sort faster' } });

  it('states the objective, the counts, the best and the baseline', () => {
    expect(prompt.user).toContain('Metric: ops_per_sec (maximize, higher is better)');
    expect(prompt.user).toContain('Trials after the baseline: 6 (kept 1, discarded 2, crashed 2, skipped 1, violations 0, agent errors 0)');
    expect(prompt.user).toContain('Baseline (unmodified code): 10');
    expect(prompt.user).toContain('Best: 15 at trial 2 (c000002): use a typed array');
    expect(prompt.user).toContain('Experiment: sorting (sort faster)');
  });

  it('names the turning points, the failure streaks and the plateau', () => {
    expect(prompt.user).toContain('trial 2: 10 -> 15 (+50.0%): use a typed array');
    expect(prompt.user).toContain('trials 3-6: 4 in a row');
    expect(prompt.user).toContain('Plateau: no new best in the last 4 trials (since trial 3).');
  });

  it('lists every trial of a short run with its metric, outcome and description, and asks for 3 to 5 numbered insights', () => {
    expect(prompt.user).toContain('  3: -, crash, broke the import');
    expect(prompt.user).toContain('  2: 15, keep (turning point), use a typed array');
    expect(prompt.user).not.toContain('not shown');
    expect(prompt.user).toMatch(/3 to 5 numbered insights.*turning points.*failure patterns.*plateaus.*next directions/s);
    expect(prompt.system).toMatch(/experiment analyst/);
  });

  it('stays bounded on a long run: the baseline, the turning points and the last trials only', () => {
    const long: ResultRow[] = [row(0, 'baseline', 100)];
    for (let trial = 1; trial <= 500; trial++) {
      // Trial 7 is the one big gain; later keeps are small.
      const keep = trial === 7 || trial % 50 === 0;
      long.push(row(trial, keep ? 'keep' : 'discard', keep ? 100 + (trial === 7 ? 200 : 300 + trial / 100) : 50, `idea ${trial} ${'x'.repeat(400)}`));
    }
    const big = buildInsightsPrompt(analyzeRun(long, 'maximize'), { metricName: 'score', maxTrials: 60 });
    const trialLines = big.user.split('\n').filter((line) => /^ {2}\d+: /.test(line));
    expect(trialLines.length).toBeLessThanOrEqual(60 + 3 + 1);
    expect(trialLines[0]).toMatch(/^ {2}0: 100, baseline/);
    expect(big.user).toContain('  7: 300, keep (turning point)');
    expect(big.user).toContain('  500: ');
    expect(big.user).not.toContain('  200: ');
    expect(big.user).toMatch(/\.\.\. \d+ trials not shown \.\.\./);
    // Descriptions are cut, so the prompt's size does not grow with them.
    expect(Math.max(...trialLines.map((line) => line.length))).toBeLessThan(220);
    expect(big.user.length).toBeLessThan(20_000);
  });

  it('says so when nothing has been measured yet', () => {
    const none = buildInsightsPrompt(analyzeRun([row(0, 'baseline', null), row(1, 'crash', null)], 'minimize'), { metricName: 'loss' });
    expect(none.user).toContain('Best: none measured');
    expect(none.user).toContain('lower is better');
  });
});
