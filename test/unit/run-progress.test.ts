import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fitWidth } from '../../src/cli/fit-width.js';
import { jsonReporter } from '../../src/cli/json-reporter.js';
import { createLiveBlock } from '../../src/cli/live-block.js';
import { createOutput } from '../../src/cli/output.js';
import { progressReporter } from '../../src/cli/progress-reporter.js';
import type { TrialSummary } from '../../src/core/trial-record.js';

const plain = createOutput({ color: false, stdout: new PassThrough(), stderr: new PassThrough() }).style;
const summary = (trial: number, outcome: TrialSummary['outcome'], metric: number | null, costUsd: number | null): TrialSummary => ({
  trial, outcome, metric, description: `t${trial}`, commit: 'abc', files: [], best: null, agentMs: 1, runMs: 1, totalMs: 2, costUsd,
});

function recorder() {
  const frames: string[][] = [];
  return { frames, block: { set: (lines: readonly string[]) => void frames.push([...lines]), around: (out: never) => out, clear: () => void frames.push([]) } };
}

describe('the live progress lines', () => {
  it('shows each trial in flight with its phase, its time against that phase\'s limit, the best and the cost so far', () => {
    let clock = 0;
    const { frames, block } = recorder();
    const progress = progressReporter(block, { metricName: 'score', direction: 'maximize', agentTimeoutSeconds: 600, experimentTimeoutSeconds: 60, style: plain, now: () => clock, tickMs: 0 });
    progress.runStart!({ tag: 't', branch: 'b', resumed: true, previousTrials: 3, forkedFrom: null, agent: 'a', worktree: 'w', baseline: 10 });
    progress.trialStart!(4);
    clock = 42_000;
    progress.trialStart!(5);
    expect(progress.lines()).toEqual([
      '▸ trial   4  agent     42s / 10m 00s  best score 10',
      '▸ trial   5  agent     0s / 10m 00s  best score 10',
    ]);
    progress.agentDone!(4, { description: 'x', files: [], ms: 1 });
    expect(progress.lines()[0]).toBe('▸ trial   4  queued    0s  best score 10'); // no limit while it waits for a slot
    progress.experimentStart!(4, { commit: 'abc', slot: 2 });
    clock += 50_000;
    progress.measureStart!(4);
    clock += 5_000;
    expect(progress.lines()[0]).toBe('▸ trial   4  measuring 5s / 1m 00s slot 2  best score 10');
    progress.trialEnd!({ ...summary(4, 'keep', 12.5, 0.25), best: 12.5 }, { previousBest: 10, isNewBest: true });
    expect(progress.lines()).toEqual(['▸ trial   5  agent     55s / 10m 00s  best score 12.5, cost $0.25']);
    progress.trialEnd!(summary(5, 'crash', null, 0.5), { previousBest: 12.5, isNewBest: false });
    expect(progress.lines()).toEqual([]);
    progress.runEnd!({ reason: { kind: 'interrupted' }, trials: 2, best: 12.5, baseline: 10 });
    expect(frames.at(-1)).toEqual([]);
  });

  it('draws in place: lines printed above, the block erased and redrawn, nothing wider than the terminal', () => {
    const stream = new PassThrough();
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
    const block = createLiveBlock(stream, () => 30);
    const out = block.around(createOutput({ color: false, stdout: stream, stderr: stream }));
    block.set(['a', 'b'.repeat(50)]);
    out.info('trial 3 keep');
    block.clear();
    expect(written).toBe(['a\n', `${'b'.repeat(28)}…\n`, '\u001b[2A\r\u001b[J', 'trial 3 keep\n', 'a\n', `${'b'.repeat(28)}…\n`, '\u001b[2A\r\u001b[J'].join(''));
  });

  it.each([
    ['short', 10, 'short'],
    ['exactly10!', 10, 'exactly10!'],
    ['a longer line', 6, 'a lon…'],
    ['\u001b[32mgreen text\u001b[39m', 6, '\u001b[32mgreen…\u001b[0m'],
  ])('fitWidth(%j, %i)', (line, width, expected) => {
    expect(fitWidth(line, width)).toBe(expected);
  });
});

describe('run --json', () => {
  it('writes every event as one JSON object per line, with version, time and type', () => {
    const lines: string[] = [];
    const reporter = jsonReporter((line) => lines.push(line), () => new Date(Date.UTC(2026, 0, 1)));
    reporter.trialStart!(1);
    reporter.experimentStart!(1, { commit: 'abc', slot: 0 });
    reporter.trialEnd!(summary(1, 'keep', 3, null), { previousBest: 2, isNewBest: true });
    reporter.runEnd!({ reason: { kind: 'max-iterations', trials: 1 }, trials: 1, best: 3, baseline: 2 });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((e) => e['type'])).toEqual(['trial.start', 'experiment.start', 'trial.end', 'run.end']);
    expect(parsed[0]).toEqual({ v: 1, ts: '2026-01-01T00:00:00.000Z', type: 'trial.start', trial: 1 });
    expect(parsed[1]).toMatchObject({ trial: 1, commit: 'abc', slot: 0 });
    expect(parsed[2]).toMatchObject({ trial: 1, previousBest: 2, isNewBest: true, summary: { outcome: 'keep', metric: 3 } });
    expect(parsed[3]).toMatchObject({ reason: { kind: 'max-iterations' }, description: 'reached the limit of 1 trial for this session' });
  });
});
