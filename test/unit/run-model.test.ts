import { describe, expect, it } from 'vitest';
import { embedJson, renderPage } from '../../src/report/html/page.js';
import { buildRunModel } from '../../src/report/html/run-model.js';
import { foldRun } from '../../src/store/fold-run.js';
import { baseline, ev, header, parallelTrial, sha, steps } from '../helpers/ledger-events.js';

const metric = { name: 'score', direction: 'maximize' as const };

describe('the page\'s run model', () => {
  it('gives each trial the trial it started from, its slot and phase, and the run\'s counts and best', () => {
    const events = [
      ...header,
      ...baseline(10),
      ...parallelTrial(1, { parent: sha(1), outcome: 'keep', metric: 12, slot: 1 }),
      ...parallelTrial(2, { parent: sha(1), onto: sha(101), outcome: 'discard', metric: 11, slot: 2 }),
      ...parallelTrial(3, { parent: sha(101), outcome: 'crash', metric: null, slot: 1 }),
      steps.start(4, sha(101)),
      ev('run.start', { n: 4, sha: sha(104), handle: null, slot: 2 }),
    ];
    const model = buildRunModel('t', foldRun(events, { direction: 'maximize' }), metric, true);
    expect(model.trials.map((t) => [t.n, t.o, t.ph, t.m, t.from, t.slot])).toEqual([
      [0, 'baseline', null, 10, null, null],
      [1, 'keep', null, 12, 0, 1],
      [2, 'discard', null, 11, 1, 2], // rebased onto trial 1's commit: it sits on trial 1
      [3, 'crash', null, null, 1, 1],
      [4, null, 'running', null, 1, 2],
    ]);
    expect(model.summary).toMatchObject({ trials: 3, kept: 1, discarded: 1, crashed: 1, best: { metric: 12, trial: 1 }, baseline: { metric: 10 } });
    expect(model.incumbent).toBe(1);
    expect(model.live).toBe(true);
  });

  it('carries the noise band when the baseline was measured more than once, and none otherwise', () => {
    const plain = buildRunModel('t', foldRun([...header, ...baseline(10)], { direction: 'maximize' }), metric);
    expect(plain.noise).toBeNull();
    const repeated = [...header, ...baseline(10)].map((e) =>
      e.type === 'trial.end' ? { ...e, summary: { ...(e['summary'] as object), samples: [9, 10, 11] } } : e,
    );
    const noisy = buildRunModel('t', foldRun(repeated, { direction: 'maximize' }), metric);
    // sd of 9, 10, 11 is 1: two runs of the same code stay within 1.96·√2 of each other.
    expect(noisy.noise?.sd).toBeCloseTo(1);
    expect(noisy.noise?.band).toBeCloseTo(1.96 * Math.SQRT2);
  });

  it('embeds data that no description can break out of', () => {
    const hostile = '</script><script>alert(1)</script><!-- \u2028';
    const text = embedJson({ d: hostile });
    expect(text).not.toMatch(/<\/script|<!--|\u2028/i);
    expect(JSON.parse(text)).toEqual({ d: hostile });
    const page = renderPage({ mode: 'report', project: '<b>x</b>', generatedAt: 'now', runs: [], artifacts: { t: { 1: { diff: hostile } } }, artifactsOmitted: null });
    expect(page.match(/<script/g)).toHaveLength(2); // the data and the page's own script, nothing more
    expect(page).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(page).toMatch(/Content-Security-Policy" content="default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+'; connect-src 'none'/);
  });
});
