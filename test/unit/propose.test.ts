import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { AgentBackend, AgentUsage, ProposalRequest } from '../../src/agents/types.js';
import { AgentError } from '../../src/errors.js';
import { propose } from '../../src/loop/propose.js';

const usage = (tokens: number, costUsd: number | null): AgentUsage => ({ inputTokens: tokens, outputTokens: tokens, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd });
const request = {} as ProposalRequest;

/** An agent that follows a script: each entry is what one attempt does. */
function scripted(steps: Array<() => Promise<{ description: string; usage?: AgentUsage }>>): AgentBackend {
  let i = 0;
  return { name: 'scripted', propose: () => steps[i++]!() };
}

describe('propose', () => {
  it('lets go of each attempt\'s timer and of the run\'s signal once the attempt ends', async () => {
    // A fast run makes thousands of attempts within one time limit: what an attempt leaves armed
    // stays in crucible's heap until the limit, and every fork copies it.
    const run = new AbortController();
    const given: AbortSignal[] = [];
    const agent: AgentBackend = {
      name: 'quick',
      propose: (_request, signal) => {
        given.push(signal);
        return given.length === 1 ? Promise.reject(new AgentError('transient', 'busy')) : Promise.resolve({ description: 'done' });
      },
    };
    await propose(agent, request, { timeoutMs: 40, signal: run.signal, retryDelaysMs: [1] });
    expect(given).toHaveLength(2);
    expect(getEventListeners(run.signal, 'abort')).toEqual([]);
    await sleep(120);
    expect(given.map((signal) => signal.aborted)).toEqual([false, false]);
  });

  it('retries transient failures and counts what the failed attempts used', async () => {
    const agent = scripted([
      () => Promise.reject(new AgentError('transient', 'overloaded (529)', { usage: usage(100, 0.01) })),
      () => Promise.reject(new AgentError('transient', 'rate limited (429)')),
      () => Promise.resolve({ description: 'done', usage: usage(1000, 0.1) }),
    ]);
    const retries: string[] = [];
    const proposal = await propose(agent, request, { timeoutMs: 5000, signal: new AbortController().signal, retryDelaysMs: [1, 1, 1], onRetry: (n, e) => retries.push(`${n}: ${e.message}`) });
    expect(retries).toEqual(['1: overloaded (529)', '2: rate limited (429)']);
    expect(proposal.usage).toEqual({ inputTokens: 1100, outputTokens: 1100, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.11 });
  });

  it('gives up after the last retry, and a fatal error is never retried; both carry the usage spent', async () => {
    const fatal = scripted([
      () => Promise.reject(new AgentError('transient', 'overloaded', { usage: usage(10, 0.001) })),
      () => Promise.reject(new AgentError('fatal', 'key rejected (401)', { usage: usage(5, null) })),
    ]);
    const error = (await propose(fatal, request, { timeoutMs: 5000, signal: new AbortController().signal, retryDelaysMs: [1, 1] }).catch((e: unknown) => e)) as AgentError;
    expect(error.kind).toBe('fatal');
    expect(error.usage).toMatchObject({ inputTokens: 15, costUsd: 0.001 });

    const always = scripted([() => Promise.reject(new AgentError('transient', 'a')), () => Promise.reject(new AgentError('transient', 'b'))]);
    await expect(propose(always, request, { timeoutMs: 5000, signal: new AbortController().signal, retryDelaysMs: [1] })).rejects.toMatchObject({ kind: 'transient', message: 'b' });
  });

  it('turns whatever the agent throws at the time limit into a timeout', async () => {
    const slow: AgentBackend = {
      name: 'slow',
      propose: (_request, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    };
    await expect(propose(slow, request, { timeoutMs: 50, signal: new AbortController().signal })).rejects.toMatchObject({ kind: 'timeout' });
  });
});
