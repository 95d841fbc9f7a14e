import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';

const minimal = `
name: demo
files:
  editable: [train.py]
commands:
  run: python train.py > run.log 2>&1
  eval: grep '^loss:' run.log
metric:
  name: loss
  direction: minimize
`;
const load = (extra: string) => parseConfigText(minimal + extra, '.crucible/config.yaml');

describe('evaluation and metric.min_improvement', () => {
  it('default to one run per change, confirmation decided by the noise floor, no minimum gain', () => {
    const result = load('');
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.evaluation).toEqual({ baseline_repeats: null, repeats: 1, aggregate: 'median', confirm: null, confidence: 0.95, max_measurements: 8 });
    expect(result.config.metric.min_improvement).toEqual({ kind: 'absolute', value: 0 });
  });

  it.each([
    ['  min_improvement: 0.01\n', { kind: 'absolute', value: 0.01 }],
    ['  min_improvement: "2%"\n', { kind: 'percent', value: 2 }],
    ['  min_improvement: 0.5 %\n', { kind: 'percent', value: 0.5 }],
  ])('min_improvement %j', (line, expected) => {
    const result = load(line);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.metric.min_improvement).toEqual(expected);
  });

  it.each([
    ['  min_improvement: -1\n', /metric\.min_improvement: must be a number of 0 or more/],
    ['  min_improvement: "two"\n', /percentage like "2%"/],
    ['evaluation:\n  aggregate: mode\n', /evaluation\.aggregate/],
    ['evaluation:\n  confidence: 1\n', /evaluation\.confidence/],
    ['evaluation:\n  repeats: 0\n', /evaluation\.repeats/],
    ['evaluation:\n  max_measurements: 0\n', /evaluation\.max_measurements/],
  ])('rejects %j with one line naming the key', (extra, pattern) => {
    const result = load(extra);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.join('\n')).toMatch(pattern);
  });

  it("reads the reference tool's repeat and aggregation as repeats and aggregate, with a note", () => {
    const result = load('evaluation:\n  repeat: 3\n  aggregation: mean\n');
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.evaluation).toMatchObject({ repeats: 3, aggregate: 'mean' });
    expect(result.warnings).toEqual([
      '.crucible/config.yaml:12: "evaluation.repeat" is read as "evaluation.repeats" (the reference tool\'s name); rename it',
      '.crucible/config.yaml:13: "evaluation.aggregation" is read as "evaluation.aggregate" (the reference tool\'s name); rename it',
    ]);
  });
});

describe('search.strategy', () => {
  it.each(['greedy', 'restart', 'beam', 'tree'])('%s is accepted, with stop_when', (name) => {
    const result = load(`search:\n  strategy: ${name}\n  stop_when: { no_improvement: 10 }\n`);
    if (!result.ok) throw new Error(result.errors.join('\n'));
    expect(result.config.search).toMatchObject({ strategy: name, stop_when: { no_improvement: 10 } });
  });

  it('an unknown strategy is a config error naming the key', () => {
    const result = load('search:\n  strategy: annealing\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(/search\.strategy/);
  });
});
