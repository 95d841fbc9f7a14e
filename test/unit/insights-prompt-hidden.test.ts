import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../src/loop/outcome.js';
import { buildInsightsPrompt } from '../../src/report/insights-prompt.js';
import { analyzeRun } from '../../src/report/postmortem.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { HIDDEN_LINE_MARKER, redactorForTexts } from '../../src/workspace/hidden-text.js';

function row(trial: number, status: Outcome, metric: number | null, description: string): ResultRow {
  return { commit: `c${trial}`, metric, status, description, tag: 'run1', trial, timestamp: '2026-03-13T10:00:00Z', agentSeconds: null, runSeconds: null, totalSeconds: null, costUsd: null };
}

const SECRET = 'expected = reference_sort(load_private_cases("cases.bin"))';
const hidden = redactorForTexts([`import json\n${SECRET}\n`]);

describe('buildInsightsPrompt with hidden files', () => {
  // Descriptions are agents' words: one quoting the harness appears as the best, a turning point and a trial.
  const pm = analyzeRun([row(0, 'baseline', 10, 'baseline'), row(1, 'keep', 15, SECRET), row(2, 'crash', null, `copied ${SECRET}`), row(3, 'discard', 12, 'unroll the loop')], 'maximize');
  const cases: Array<[string, ((text: string) => string) | undefined, boolean]> = [
    ['without a redactor, shows descriptions as they are', undefined, true],
    ['with one, shows no hidden text anywhere', hidden.redact, false],
  ];
  it.each(cases)('%s', (_name, redact, leaks) => {
    const prompt = buildInsightsPrompt(pm, { metricName: 'ops', ...(redact ? { redact } : {}) });
    expect(prompt.user.includes('reference_sort(load_private_cases')).toBe(leaks);
    expect(prompt.user).toContain('unroll the loop');
    if (!leaks) expect(prompt.user).toContain(`Best: 15 at trial 1 (c1): ${HIDDEN_LINE_MARKER}`);
  });
});
