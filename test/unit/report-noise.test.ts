import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/core/outcome.js';
import { assemblePrompt, type PromptInput } from '../../src/prompt/assemble-prompt.js';
import { analyzeRun } from '../../src/report/postmortem.js';
import { postmortemJson } from '../../src/report/postmortem-json.js';
import { renderPostmortem } from '../../src/report/postmortem-render.js';
import { renderStatus, statusJson } from '../../src/report/status.js';
import { noiseOfRows } from '../../src/report/noise.js';
import { summarizeRun } from '../../src/report/summary.js';
import type { ResultRow } from '../../src/store/result-row.js';

function row(trial: number, status: Outcome, metric: number | null, extra: Partial<ResultRow> = {}): ResultRow {
  return { commit: `c${trial}`, metric, status, description: `trial ${trial}`, tag: 'run1', trial, timestamp: '2026-03-13T10:00:00Z', agentSeconds: null, runSeconds: null, totalSeconds: null, costUsd: null, ...extra };
}

// A run whose baseline ran three times and whose keep was confirmed against the incumbent.
const noisy = [
  row(0, 'baseline', 100, { samples: [99, 100, 101], measurements: 3 }),
  row(1, 'discard', 99, { samples: [99], measurements: 1 }),
  row(2, 'keep', 104, { samples: [105, 104, 103.8, 104.2], incumbentSamples: [100, 100.4, 99.7], measurements: 4, margin: 3.9, p: 0.0021 }),
  row(3, 'keep', 106, { samples: [106], measurements: 1 }),
];
// The same run as an older version recorded it: no samples anywhere.
const old = noisy.map(({ samples: _s, incumbentSamples: _i, measurements: _m, margin: _g, p: _p, ...rest }) => rest);

describe('the noise floor in the reports', () => {
  it('status says how noisy the metric is, and its JSON carries it', () => {
    const input = { experiment: 'e', tag: 'run1', branch: 'crucible/run1', metricName: 'score', direction: 'maximize' as const, summary: summarizeRun(noisy, 'maximize'), noise: noiseOfRows(noisy) };
    expect(renderStatus(input)).toContain('Noise floor: sd 1 (CV 1.0%) over 3 baseline runs; differences under 2.77186 are noise');
    expect(statusJson(input).noise).toEqual({ n: 3, mean: 100, sd: 1, cv: 0.01 });
    const plain = { ...input, summary: summarizeRun(old, 'maximize'), noise: noiseOfRows(old) };
    expect(renderStatus(plain)).not.toContain('Noise');
    expect(statusJson(plain).noise).toBeNull();
  });

  it('postmortem shows the floor and, for each keep, its margin and measurements', () => {
    const text = renderPostmortem(analyzeRun(noisy, 'maximize'), { metricName: 'score', width: 120 });
    expect(text).toContain('## Noise');
    expect(text).toContain('kept trial 2: 104, margin +3.9 on 4 measurements against 3 of the incumbent, p = 0.002');
    // Without the rule's margin (a keep on one run), the gain over the best before it.
    expect(text).toContain('kept trial 3: 106, margin +2 on 1 measurement');
  });

  it('postmortem --json carries the raw values', () => {
    const json = postmortemJson(analyzeRun(noisy, 'maximize'));
    expect(json.noise).toEqual({ n: 3, mean: 100, sd: 1, cv: 0.01 });
    expect(json.trend[2]).toMatchObject({ samples: [105, 104, 103.8, 104.2], incumbent_samples: [100, 100.4, 99.7] });
    expect(json.keeps).toEqual([
      { trial: 2, metric: 104, margin: 3.9, measurements: 4, incumbent_measurements: 3, p: 0.0021 },
      { trial: 3, metric: 106, margin: 2, measurements: 1, incumbent_measurements: 0, p: null },
    ]);
  });

  it('the report of an older run has no noise section', () => {
    const pm = analyzeRun(old, 'maximize');
    expect(renderPostmortem(pm, { metricName: 'score', width: 120 })).not.toContain('Noise');
    expect(postmortemJson(pm).noise).toBeNull();
    expect(postmortemJson(pm).trend[2]).not.toHaveProperty('samples');
  });
});

describe('the noise section of the prompt', () => {
  const base: PromptInput = {
    instructions: null,
    objective: { name: 'ops', direction: 'maximize' },
    branch: 'crucible/run1',
    trial: 1,
    files: { editable: ['a.js'], readonly: [], hidden: [] },
    history: [{ trial: 0, outcome: 'baseline', metric: 100, description: 'baseline' }],
    includeHistory: true,
    historyLimit: 20,
    includeBest: true,
    formatMetric: (v) => (v === null ? '-' : String(Number(v.toPrecision(3)))),
  };

  it.each([
    ['a noisy metric', { n: 3, mean: 100, sd: 2, cv: 0.02, aggregate: 100 }, 'differences under 5.54 are noise'],
    ['a deterministic metric', { n: 3, mean: 100, sd: 0, cv: 0, aggregate: 100 }, null],
    ['no floor measured', null, null],
  ])('%s', (_name, noise, expected) => {
    const prompt = assemblePrompt({ ...base, noise });
    if (expected === null) {
      expect(prompt).not.toContain('## Noise');
      expect(prompt).toBe(assemblePrompt(base));
    } else {
      expect(prompt).toContain(`The unchanged code's ops varies by about 2 (2.0%) from run to run (3 baseline runs): ${expected}.`);
    }
  });
});
