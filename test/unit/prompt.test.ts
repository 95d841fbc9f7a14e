import { describe, expect, it } from 'vitest';
import { assemblePrompt, type PromptInput } from '../../src/prompt/assemble-prompt.js';
import type { InFlightTrial, TrialView } from '../../src/agents/types.js';
import { inFlightViews } from '../../src/prompt/agent-views.js';
import { HIDDEN_LINE_MARKER, redactorForTexts } from '../../src/workspace/hidden-text.js';

const base: PromptInput = {
  instructions: 'Make sort.js faster.\n',
  objective: { name: 'ops_per_sec', direction: 'maximize' },
  branch: 'crucible/run1',
  trial: 1,
  files: { editable: ['sort.js'], readonly: ['data.js'], hidden: ['benchmark.js'] },
  history: [{ trial: 0, outcome: 'baseline', metric: 100, description: 'baseline' }],
  includeHistory: true,
  historyLimit: 20,
  includeBest: true,
  formatMetric: (v) => (v === null ? '-' : String(v)),
};

const trials: TrialView[] = [
  { trial: 0, outcome: 'baseline', metric: 100, description: 'baseline' },
  { trial: 1, outcome: 'keep', metric: 120, description: 'cutoff 8 → 16' },
  { trial: 2, outcome: 'discard', metric: 90, description: 'use | pipes' },
  { trial: 3, outcome: 'crash', metric: null, description: 'broke it', detail: 'SyntaxError: Unexpected token' },
];

describe('assemblePrompt', () => {
  it('puts the stable sections first and the task last', () => {
    const prompt = assemblePrompt({ ...base, history: trials, trial: 4 });
    const order = ['## Instructions', '## Rules', '## Current state', '## History', '## What went wrong', '## Your task'].map((h) => prompt.indexOf(h));
    expect(order.every((pos) => pos >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('names the editable, read-only and hidden files', () => {
    const prompt = assemblePrompt(base);
    expect(prompt).toContain('You may edit only: sort.js');
    expect(prompt).toContain('Read-only (read them, never change them): data.js');
    expect(prompt).toMatch(/Hidden .*: benchmark\.js/);
  });

  it('shows the baseline as the bar to beat before anything is kept', () => {
    const prompt = assemblePrompt(base);
    expect(prompt).toContain('Best so far: 100, the unmodified code (baseline). Beat it.');
    expect(prompt).toContain('No trials yet.');
  });

  it('shows the best, the gain over the baseline, the history table and lessons', () => {
    const prompt = assemblePrompt({ ...base, history: trials, trial: 4 });
    expect(prompt).toContain('Best so far: 120 (trial 1, +20.0% better vs the baseline 100). Beat it.');
    expect(prompt).toContain('| 2 | 90 | not better | use \\| pipes |');
    expect(prompt).toContain('Trials so far: 3 (1 kept, 1 not better, 1 crashed)');
    expect(prompt).toContain('Trend of kept changes: 100 → 120 (+20.0% better).');
    expect(prompt).toContain('Did not help, do not repeat: use | pipes');
  });

  it('includes the crash report of the last trial, and keeps it across a trial with no edit', () => {
    const afterCrash = assemblePrompt({ ...base, history: trials, trial: 4 });
    expect(afterCrash).toContain('SyntaxError: Unexpected token');
    const afterSkip = assemblePrompt({
      ...base,
      trial: 5,
      history: [...trials, { trial: 4, outcome: 'skip', metric: null, description: 'no edit', detail: 'no files were changed' }],
    });
    expect(afterSkip).toContain('SyntaxError: Unexpected token');
    expect(afterSkip).toContain('no files were changed');
  });

  it('drops the failure once a measured trial follows', () => {
    const prompt = assemblePrompt({ ...base, trial: 5, history: [...trials, { trial: 4, outcome: 'discard', metric: 99, description: 'x' }] });
    expect(prompt).not.toContain('What went wrong');
  });

  it('limits the history to history_limit rows and can leave it out', () => {
    const many: TrialView[] = [trials[0]!, ...Array.from({ length: 30 }, (_, i) => ({ trial: i + 1, outcome: 'discard' as const, metric: 50, description: `try ${i + 1}` }))];
    const prompt = assemblePrompt({ ...base, history: many, historyLimit: 5, trial: 31 });
    expect(prompt).toContain('The last 5 of 30 trials');
    expect(prompt).toContain('| 30 | 50 |');
    expect(prompt).not.toContain('| 25 | 50 |');
    expect(assemblePrompt({ ...base, history: many, includeHistory: false })).not.toContain('## History');
  });

  it('stays bounded however long the run', () => {
    const long: TrialView[] = [trials[0]!, ...Array.from({ length: 5000 }, (_, i) => ({ trial: i + 1, outcome: 'discard' as const, metric: 50, description: `a fairly long description of attempt ${i + 1}` }))];
    expect(assemblePrompt({ ...base, history: long }).length).toBeLessThan(8000);
  });

  it('omits the best when include_best is false', () => {
    expect(assemblePrompt({ ...base, includeBest: false })).not.toContain('Best so far');
  });
});

/** The prompt of a history with these outcomes, in order (its task section holds the strategy hint). */
const promptAfter = (outcomes: readonly TrialView['outcome'][]): string =>
  assemblePrompt({ ...base, history: outcomes.map((outcome, trial) => ({ trial, outcome, metric: outcome === 'keep' || outcome === 'baseline' ? 100 + trial : null, description: `trial ${trial}` })) });

describe('the strategy hint', () => {
  it.each([
    [[], 'First attempt'],
    [['baseline', 'keep'], 'go further in the same direction'],
    [['keep', 'discard'], 'different improvement'],
    [['keep', 'discard', 'crash'], 're-read the code'],
    [['keep', 'discard', 'crash', 'discard', 'discard'], 'combine two ideas'],
    [['discard', 'discard', 'discard', 'discard', 'discard', 'discard', 'discard'], 'radically different'],
  ] as const)('%j → %s', (outcomes, expected) => {
    expect(promptAfter(outcomes)).toContain(expected);
  });
});

describe('failed diffs in the prompt', () => {
  it('shows the compact diffs of the last three failures, bounded however long the run', () => {
    const diff = (n: number) => `# sort.js\n-const CUTOFF = 8;\n+const CUTOFF = ${n};`;
    const history: TrialView[] = [
      { trial: 0, outcome: 'baseline', metric: 100, description: 'baseline' },
      ...Array.from({ length: 500 }, (_, i) => ({ trial: i + 1, outcome: 'discard' as const, metric: 90, description: `cutoff ${i}`, diff: diff(i) })),
    ];
    const prompt = assemblePrompt({ ...base, history, trial: 501 });
    expect(prompt).toContain('The last failed changes, exactly (do not make them again):');
    expect(prompt).toContain('+const CUTOFF = 499;');
    expect(prompt).toContain('+const CUTOFF = 497;');
    expect(prompt).not.toContain('+const CUTOFF = 496;');
    expect(prompt.length).toBeLessThan(8000);
  });
});

describe('trials in flight in the prompt', () => {
  const inFlight: InFlightTrial[] = [
    { trial: 13, description: 'unroll the inner loop', files: ['sort.js'] },
    { trial: 12, description: 'cutoff 16 → 32\nand more', files: ['sort.js', 'util.js'] },
  ];

  it('lists what is being measured now, in trial order, between the history and the task', () => {
    const prompt = assemblePrompt({ ...base, history: trials, trial: 14, inFlight });
    expect(prompt).toContain(
      [
        '## Being measured now',
        '',
        'These changes are already being measured; do not repeat them, pick something different:',
        '- trial 12: cutoff 16 → 32 and more (sort.js, util.js)',
        '- trial 13: unroll the inner loop (sort.js)',
      ].join('\n'),
    );
    const order = ['## History', '## Being measured now', '## Your task'].map((h) => prompt.indexOf(h));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('leaves the serial prompt exactly as it was when nothing is in flight', () => {
    const serial = assemblePrompt({ ...base, history: trials, trial: 4 });
    expect(assemblePrompt({ ...base, history: trials, trial: 4, inFlight: [] })).toBe(serial);
    expect(serial).not.toContain('Being measured now');
  });

  it('stays bounded however many are in flight', () => {
    const many = Array.from({ length: 64 }, (_, i) => ({ trial: i + 5, description: `idea ${i + 5}`, files: Array.from({ length: 20 }, (_, k) => `f${k}.js`) }));
    const prompt = assemblePrompt({ ...base, history: trials, trial: 70, inFlight: many });
    expect(prompt).toContain('- trial 68: idea 68 (f0.js, f1.js, f2.js, f3.js and 16 more)');
    expect(prompt).toContain('- and 54 earlier one(s)');
    expect(prompt).not.toContain('idea 58');
    expect(prompt.length).toBeLessThan(8000);
  });

  it('is redacted like the history before an agent sees it', () => {
    const hidden = 'SECRET_CASES = [(3, 9), (4, 16)]\n';
    const views = inFlightViews([{ trial: 3, description: 'SECRET_CASES = [(3, 9), (4, 16)]', files: ['a.py'], diff: '+SECRET_CASES = [(3, 9), (4, 16)]' }], redactorForTexts([hidden]).redact);
    expect(views).toEqual([{ trial: 3, description: HIDDEN_LINE_MARKER, files: ['a.py'], diff: HIDDEN_LINE_MARKER }]);
  });
});

describe('stale trials in the prompt', () => {
  const history: TrialView[] = [
    ...trials,
    { trial: 4, outcome: 'discard', metric: 95, description: 'cutoff 16 → 24' },
    { trial: 5, outcome: 'stale', metric: null, description: 'switch to merge sort', detail: 'conflict in sort.js: trial 6 changed the same lines' },
  ];

  it('shows a stale trial as never measured, not as a failed idea', () => {
    const prompt = assemblePrompt({ ...base, history, trial: 6 });
    expect(prompt).toContain('| 5 | - | stale (not measured) | switch to merge sort |');
    expect(prompt).toContain('Trials so far: 5 (1 kept, 2 not better, 1 crashed, 1 stale (not measured))');
    expect(prompt).toContain('Never measured (stale: the best changed while it was written, and it no longer applied): switch to merge sort.');
    expect(prompt).not.toMatch(/Did not help, do not repeat:[^\n]*merge sort/);
    expect(prompt).not.toMatch(/Crashed, avoid:[^\n]*merge sort/);
    expect(prompt).not.toContain('The last failed changes');
    // Its conflict is no mistake to fix, and a measured trial came before it: nothing went wrong.
    expect(prompt).not.toContain('What went wrong');
    expect(prompt).not.toContain('conflict in sort.js');
  });

  it('does not count a stale trial as a miss in the strategy hint', () => {
    expect(promptAfter(['baseline', 'keep', 'stale', 'stale'])).toContain('go further in the same direction');
    expect(promptAfter(['baseline', 'keep', 'discard', 'stale'])).toContain('different improvement');
  });
});

describe('the prompt of a long run', () => {
  // 10,000 trials: a crash and a stale trial early, one late keep, the best early on a tie.
  const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 100, description: 'baseline' }];
  for (let n = 1; n <= 10_000; n++) {
    const outcome = n === 3 ? 'crash' : n === 4 ? 'stale' : n === 5 || n === 9_000 ? 'keep' : n % 7 === 0 ? 'skip' : 'discard';
    const metric = outcome === 'keep' ? 150 : outcome === 'discard' ? 90 : null;
    history.push({ trial: n, outcome, metric, description: `idea ${n}`, ...(outcome === 'crash' || n > 9_997 ? { diff: `+line ${n}` } : {}) });
  }
  const prompt = assemblePrompt({ ...base, history, trial: 10_001, historyLimit: 3 });

  it('counts every trial, and names the earliest of two equal bests', () => {
    expect(prompt).toContain('Trials so far: 10000 (2 kept, 8568 not better, 1 crashed, 1 stale (not measured), 1428 void (no edit, forbidden edit or agent error))');
    expect(prompt).toContain('Best so far: 150 (trial 5, +50.0% better vs the baseline 100). Beat it.');
    expect(prompt).toContain('Trend of kept changes: 100 → 150 (+50.0% better).');
  });

  it('shows the last trials of each kind, however far back they are', () => {
    expect(prompt).toContain('The last 3 of 10000 trials, oldest first:');
    expect(prompt).toContain('| 9998 | 90 | not better | idea 9998 |\n| 9999 | 90 | not better | idea 9999 |\n| 10000 | 90 | not better | idea 10000 |');
    expect(prompt).toContain('Worked, build on these: idea 5; idea 9000');
    expect(prompt).toContain('Did not help, do not repeat: idea 9995; idea 9997; idea 9998; idea 9999; idea 10000');
    expect(prompt).toContain('Crashed, avoid: idea 3');
    expect(prompt).toContain('Never measured (stale: the best changed while it was written, and it no longer applied): idea 4.');
    expect(prompt).toMatch(/Trial 9998 \(not better, ops_per_sec 90\):\n```diff\n\+line 9998\n```\n\nTrial 9999 .*\n```diff\n\+line 9999\n```\n\nTrial 10000 /);
    expect(prompt).toContain('attempts in a row did not help: make a radically different change');
  });
});
