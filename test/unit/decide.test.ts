import { describe, expect, it } from 'vitest';
import { decide } from '../../src/loop/decide.js';
import { checkBudget, checkStop, countTrial, describeStop, initialCounters } from '../../src/loop/stop-rules.js';
import type { Outcome } from '../../src/loop/outcome.js';

describe('decide', () => {
  it.each([
    ['maximize, better', 10, 11, 'maximize', 'keep'],
    ['maximize, worse', 10, 9, 'maximize', 'discard'],
    ['maximize, tie is discarded', 10, 10, 'maximize', 'discard'],
    ['minimize, better', 0.5, 0.4, 'minimize', 'keep'],
    ['minimize, worse', 0.5, 0.6, 'minimize', 'discard'],
    ['minimize, tie is discarded', 0.5, 0.5, 'minimize', 'discard'],
    ['negative metrics', -3, -2, 'maximize', 'keep'],
  ] as const)('%s', (_name, best, value, direction, expected) => {
    expect(decide(best, { ok: true, value }, direction).outcome).toBe(expected);
  });

  it('a worse first change is discarded: the baseline is the bar (the reference kept it)', () => {
    expect(decide(100, { ok: true, value: 50 }, 'maximize')).toMatchObject({ outcome: 'discard', delta: -50, deltaPercent: -50 });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('a metric of %s is a crash', (value) => {
    expect(decide(1, { ok: true, value }, 'minimize').outcome).toBe('crash');
  });

  it('a missing metric is a crash that carries the parser reason', () => {
    expect(decide(1, { ok: false, reason: 'no "loss: <number>" line' }, 'minimize')).toEqual({
      outcome: 'crash',
      reason: 'no "loss: <number>" line',
      delta: null,
      deltaPercent: null,
    });
  });

  it('has no percentage against a best of zero', () => {
    expect(decide(0, { ok: true, value: 1 }, 'maximize')).toMatchObject({ outcome: 'keep', delta: 1, deltaPercent: null });
  });
});

describe('stop rules', () => {
  const run = (outcomes: Outcome[]) => outcomes.reduce(countTrial, initialCounters);

  it('stops after max_retries failures in a row, and a keep resets the streak', () => {
    const limits = { maxRetries: 3, maxIterations: null };
    expect(checkStop(run(['discard', 'crash']), limits)).toBeNull();
    expect(checkStop(run(['discard', 'crash', 'discard']), limits)).toEqual({ kind: 'max-retries', count: 3, what: 'failures' });
    expect(checkStop(run(['discard', 'crash', 'keep', 'discard', 'discard']), limits)).toBeNull();
  });

  it('counts void trials (skip, violation, agent error) on their own streak', () => {
    const limits = { maxRetries: 2, maxIterations: null };
    expect(checkStop(run(['skip', 'violation']), limits)).toEqual({ kind: 'max-retries', count: 2, what: 'void trials' });
    expect(checkStop(run(['skip', 'discard', 'skip']), limits)).toBeNull();
    expect(describeStop({ kind: 'max-retries', count: 2, what: 'void trials' })).toContain('no edit');
  });

  it('void trials do not break a failure streak', () => {
    expect(checkStop(run(['discard', 'skip', 'discard']), { maxRetries: 2, maxIterations: null })).toMatchObject({ what: 'failures' });
  });

  it('stops at max_iterations, counting this session only', () => {
    expect(checkStop(run(['keep', 'keep']), { maxRetries: 3, maxIterations: 2 })).toEqual({ kind: 'max-iterations', trials: 2 });
    expect(checkStop(run(['keep']), { maxRetries: 3, maxIterations: 2 })).toBeNull();
  });

  it('does not stop before any trial', () => {
    expect(checkStop(initialCounters, { maxRetries: 0, maxIterations: null })).toBeNull();
  });
});

describe('budgets', () => {
  const none = { maxCostUsd: null, maxCostPerTrialUsd: null, maxWallTime: null };
  const spent = (totalCostUsd: number, lastTrialCostUsd: number | null, elapsedSeconds: number) => ({ totalCostUsd, lastTrialCostUsd, elapsedSeconds });

  it('has no limit by default', () => {
    expect(checkBudget(none, spent(1e9, 1e9, 1e9))).toBeNull();
  });

  it('stops once the total cost reaches max_cost_usd', () => {
    expect(checkBudget({ ...none, maxCostUsd: 5 }, spent(4.99, 0.5, 0))).toBeNull();
    expect(checkBudget({ ...none, maxCostUsd: 5 }, spent(5, 0.5, 0))).toEqual({ kind: 'budget', limit: 'max_cost_usd', used: 5, allowed: 5 });
  });

  it('stops after a trial that cost more than max_cost_per_trial_usd', () => {
    expect(checkBudget({ ...none, maxCostPerTrialUsd: 0.5 }, spent(3, 0.5, 0))).toBeNull();
    const stop = checkBudget({ ...none, maxCostPerTrialUsd: 0.5 }, spent(3, 0.75, 0));
    expect(stop).toMatchObject({ limit: 'max_cost_per_trial_usd' });
    expect(describeStop(stop!)).toBe('the last trial cost $0.75, more than constraints.max_cost_per_trial_usd ($0.50)');
  });

  it('stops when the session has run for max_wall_time', () => {
    const stop = checkBudget({ ...none, maxWallTime: 8 * 3600 }, spent(0, null, 8 * 3600 + 1));
    expect(describeStop(stop!)).toBe('ran for 8.0h, the session limit (constraints.max_wall_time 8.0h)');
  });
});
