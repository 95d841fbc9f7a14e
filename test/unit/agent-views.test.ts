import { describe, expect, it } from 'vitest';
import type { TrialView } from '../../src/agents/types.js';
import { agentViews } from '../../src/prompt/agent-views.js';

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

  it('redacts each trial once, however many prompts show it, and the views cannot be changed', () => {
    let calls = 0;
    const counting = (text: string): string => ((calls += 1), hideSecret(text));
    const first = agentViews([trial], counting);
    const second = agentViews([trial, { trial: 2, outcome: 'keep', metric: 1, description: 'fine' }], counting);
    expect(calls).toBe(4);
    expect(second[0]).toBe(first[0]);
    expect(() => {
      (first[0] as { description: string }).description = 'SECRET';
    }).toThrow(TypeError);
  });
});
