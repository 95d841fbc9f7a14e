import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import { agentViews, sortedAgentViews } from '../../src/prompt/agent-views.js';
import { digestHistory } from '../../src/prompt/history-digest.js';

/**
 * Views are made once per trial and redactor (every prompt used to redact the whole history again):
 * the saving must never hand one redactor's view to another, nor let a prompt change a view.
 */
describe('agentViews', () => {
  const trial: TrialView = { trial: 1, outcome: 'discard', metric: 2, description: 'printed SECRET', detail: 'SECRET in the log', diff: '+SECRET' };
  const hideSecret = (text: string): string => text.replaceAll('SECRET', '[hidden]');
  const hideNothing = (text: string): string => text;

  it.each([
    ['a redactor that hides the secret', hideSecret, 'printed [hidden]', '[hidden] in the log', '+[hidden]'],
    ['a redactor that hides nothing', hideNothing, 'printed SECRET', 'SECRET in the log', '+SECRET'],
    ['the first redactor again, after the other', hideSecret, 'printed [hidden]', '[hidden] in the log', '+[hidden]'],
  ])('%s gets its own view', (_name, redact, description, detail, diff) => {
    expect(agentViews([trial], redact)).toEqual([{ trial: 1, outcome: 'discard', metric: 2, description, detail, diff }]);
  });

  it('redacts each text once, when it is first read, however many prompts show it, and the views cannot be changed', () => {
    let calls = 0;
    const counting = (text: string): string => ((calls += 1), hideSecret(text));
    const first = agentViews([trial], counting);
    const second = agentViews([trial, { trial: 2, outcome: 'keep', metric: 1, description: 'fine' }], counting);
    // A session's first proposal views the whole run: nothing is redacted until an agent reads it.
    expect(calls).toBe(0);
    expect(second[0]).toBe(first[0]);
    expect(second.map((v) => v.description)).toEqual(['printed [hidden]', 'fine']);
    expect(calls).toBe(2);
    expect(JSON.parse(JSON.stringify(first[0]))).toEqual({ trial: 1, outcome: 'discard', metric: 2, description: 'printed [hidden]', detail: '[hidden] in the log', diff: '+[hidden]' });
    expect(calls).toBe(4);
    expect({ ...second[0] }.diff).toBe('+[hidden]');
    expect(calls).toBe(4);
    expect('diff' in second[1]!).toBe(false);
    expect(() => {
      (first[0] as { description: string }).description = 'SECRET';
    }).toThrow(TypeError);
  });
});

describe('sortedAgentViews', () => {
  const hide = (text: string): string => text.replaceAll('SECRET', '[hidden]');
  const record = (trial: number, note = ''): TrialView => ({ trial, outcome: 'discard', metric: trial, description: `trial ${trial} SECRET${note}` });
  const wholeSort = (history: readonly TrialView[]): TrialView[] => agentViews([...history].sort((a, b) => a.trial - b.trial), hide);

  it('gives, after every record a run adds (in any order), what sorting the whole history gives', () => {
    // Records end out of order (parallel trials), and a trial number may come twice (kept in push order).
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const history: TrialView[] = [];
    for (let i = 0; i < 300; i++) {
      history.push(record(Math.max(0, i - (next() % 6)), next() % 10 === 0 ? ' again' : ''));
      const views = sortedAgentViews(history, hide);
      expect(views).toEqual(wholeSort(history));
    }
  });

  it('takes a new array, a record replaced at the end, or another redactor whole; and hands out copies', () => {
    const history = [record(1), record(3), record(2)];
    const first = sortedAgentViews(history, hide);
    first.pop();
    expect(sortedAgentViews(history, hide).map((v) => v.trial)).toEqual([1, 2, 3]);
    history[2] = record(0);
    expect(sortedAgentViews(history, hide).map((v) => v.trial)).toEqual([0, 1, 3]);
    expect(sortedAgentViews([record(5), record(4)], hide).map((v) => v.trial)).toEqual([4, 5]);
    expect(sortedAgentViews(history, (text) => text)[0]?.description).toBe('trial 0 SECRET');
  });
});

describe('views read by the prompt\'s digest', () => {
  it('redacts only the diffs the digest keeps, and keeps the same ones as for plain records', () => {
    let redacted = 0;
    const counting = (text: string): string => ((redacted += 1), text.replaceAll('SECRET', '[hidden]'));
    const records: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    for (let n = 1; n <= 500; n++) records.push({ trial: n, outcome: n % 7 === 0 ? 'crash' : 'discard', metric: n % 7 === 0 ? null : n, description: `trial ${n}`, ...(n % 3 === 0 ? {} : { diff: `-a\n+SECRET ${n}` }) });
    const digest = digestHistory(agentViews(records, counting), 'minimize');
    expect(digest.lastFailedDiffs.map((t) => t.diff)).toEqual(['-a\n+[hidden] 497', '-a\n+[hidden] 499', '-a\n+[hidden] 500']);
    expect(redacted).toBe(3);
    expect(digest.lastFailedDiffs.map((t) => t.trial)).toEqual(digestHistory(records.map((t) => ({ ...t })), 'minimize').lastFailedDiffs.map((t) => t.trial));
  });
});
