import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { describeInFlight, renderInFlight } from '../../src/report/in-flight.js';
import { buildJobScript, jobName, shellQuote, timeLimit } from '../../src/runner/slurm/job-script.js';
import { classifyState, parseJobLine } from '../../src/runner/slurm/job-state.js';
import { foldRun } from '../../src/store/fold-run.js';
import type { LedgerEvent } from '../../src/store/ledger.js';

describe('timeLimit: --time is the timeout plus a margin, in whole minutes', () => {
  it.each([
    [1000, '00:02:00'],
    [60_000, '00:02:00'],
    [600_000, '00:11:00'],
    [3_600_000, '01:06:00'],
    [36 * 3_600_000, '1-15:36:00'],
  ])('%d ms → %s', (ms, expected) => {
    expect(timeLimit(ms)).toBe(expected);
  });
});

describe('jobName: names the run, the trial and the project', () => {
  it.each([
    ['t1', '3', '/p/a', /^crucible-t1-3-[0-9a-f]{8}$/],
    ['we ird;$(x)', '12', '/p/a', /^crucible-we_ird___x_-12-[0-9a-f]{8}$/],
  ])('%s, trial %s', (tag, trial, dir, pattern) => {
    expect(jobName(tag, trial, dir)).toMatch(pattern);
  });
  it('differs between projects with the same tag', () => {
    expect(jobName('t', '1', '/p/a')).not.toBe(jobName('t', '1', '/p/b'));
  });
});

describe('parseJobLine and classifyState', () => {
  it.each([
    ['JobId=5 JobName=x JobState=PENDING Reason=Priority StartTime=2030-01-01T00:00:00', { state: 'PENDING', reason: 'Priority', startTime: null }, 'waiting'],
    ['JobId=5 JobState=RUNNING Reason=None StartTime=2026-12-04T21:09:37', { state: 'RUNNING', reason: 'None', startTime: Date.parse('2026-12-04T21:09:37') }, 'running'],
    ['JobId=5 JobState=COMPLETED Reason=None StartTime=Unknown', { state: 'COMPLETED', reason: 'None', startTime: null }, 'ended'],
    ['JobId=5 JobState=NODE_FAIL Reason=None', { state: 'NODE_FAIL', reason: 'None', startTime: null }, 'lost-node'],
    ['JobId=5 JobState=PREEMPTED', { state: 'PREEMPTED', reason: 'None', startTime: null }, 'lost-node'],
    ['JobId=5 JobState=SOMETHING_NEW', { state: 'SOMETHING_NEW', reason: 'None', startTime: null }, 'ended'],
  ])('%s', (line, info, kind) => {
    const parsed = parseJobLine(line);
    expect(parsed).toEqual(info);
    expect(classifyState(parsed!.state)).toBe(kind);
  });
  it('a line without a state is nothing', () => {
    expect(parseJobLine('slurm_load_jobs error: Invalid job id specified')).toBeNull();
  });
});

describe('buildJobScript', () => {
  it('runs the setup lines first (they change the environment the commands see), eval only after a run that exited 0, each output and status in its own file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-jobscript-'));
    try {
      const script = (run: string) =>
        buildJobScript({ name: 'n', setup: ['X=from-setup'], cwd: dir, dir, run: { file: '/bin/sh', args: ['-c', run] }, eval: { file: '/bin/sh', args: ['-c', "echo \"score: $X it's\""] } });
      writeFileSync(path.join(dir, 'job.sh'), script('echo out; echo err >&2'));
      execFileSync('/bin/sh', [path.join(dir, 'job.sh')], { env: { PATH: process.env['PATH'], X: 'exported' } });
      expect(readFileSync(path.join(dir, 'run.out'), 'utf8')).toBe('out\n');
      expect(readFileSync(path.join(dir, 'run.err'), 'utf8')).toBe('err\n');
      expect(readFileSync(path.join(dir, 'run.exit'), 'utf8')).toMatch(/^0 \d+(\.\d+)?\n$/);
      expect(readFileSync(path.join(dir, 'eval.out'), 'utf8')).toBe("score: from-setup it's\n");
      writeFileSync(path.join(dir, 'job.sh'), script('exit 4'));
      rmSync(path.join(dir, 'eval.exit'));
      execFileSync('/bin/sh', [path.join(dir, 'job.sh')]);
      expect(readFileSync(path.join(dir, 'run.exit'), 'utf8')).toMatch(/^4 /);
      expect(() => readFileSync(path.join(dir, 'eval.exit'))).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.each([["it's"], ['$(rm -rf /)'], ['a"b`c\\d']])('shellQuote keeps %s as it is', (word) => {
    expect(execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' })).toBe(word);
  });
});

describe('executor config', () => {
  const base = { name: 'x', files: { editable: ['a'] }, commands: { run: 'r', eval: 'e' }, metric: { name: 'm', direction: 'minimize' } };
  it.each([
    [undefined, 'local'],
    ['slurm', 'slurm'],
    [{ type: 'slurm', slurm: { sbatch_args: ['--partition=gpu'] } }, 'slurm'],
  ])('executor: %j is %s', (executor, type) => {
    const parsed = configSchema.parse({ ...base, ...(executor === undefined ? {} : { executor }) });
    expect(parsed.executor.type).toBe(type);
    expect(parsed.executor.slurm.poll_seconds).toBe(2);
  });
  it.each([['--job-name=x'], ['-J'], ['--output=/tmp/x'], ['--time=5'], ['--export=NONE'], ['--requeue'], ['--chdir=/']])('refuses sbatch_args %s, which crucible sets itself', (arg) => {
    const parsed = configSchema.safeParse({ ...base, executor: { type: 'slurm', slurm: { sbatch_args: [arg] } } });
    expect(parsed.success).toBe(false);
  });
  it('reads queue_timeout as a duration', () => {
    expect(configSchema.parse({ ...base, executor: { type: 'slurm', slurm: { queue_timeout: '30m' } } }).executor.slurm.queue_timeout).toBe(1800);
  });
});

describe('status: a trial whose job waits in the queue', () => {
  it('shows the job id, its state and the time in queue, then only the state once it runs', () => {
    const ts = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const handle = { executor: 'slurm', jobId: '42', name: 'crucible-t-1-abc', dir: '/x' };
    const events: LedgerEvent[] = [
      { v: 1, ts: ts(0), type: 'trial.start', n: 1, parent: 'a'.repeat(40) },
      { v: 1, ts: ts(1), type: 'commit', n: 1, sha: 'b'.repeat(40), parent: 'a'.repeat(40) },
      { v: 1, ts: ts(2), type: 'run.start', n: 1, sha: 'b'.repeat(40), slot: 1, handle },
      { v: 1, ts: ts(3), type: 'job.state', n: 1, jobId: '42', state: 'PENDING' },
    ];
    const queued = renderInFlight(describeInFlight(foldRun(events).inFlight, new Date(ts(32))), true).join('\n');
    expect(queued).toMatch(/job 42 PENDING, 30s in queue/);
    const running: LedgerEvent[] = [...events, { v: 1, ts: ts(40), type: 'job.state', n: 1, jobId: '42', state: 'RUNNING' }];
    const line = renderInFlight(describeInFlight(foldRun(running).inFlight, new Date(ts(50))), true).join('\n');
    expect(line).toMatch(/job 42 RUNNING/);
    expect(line).not.toMatch(/in queue/);
  });
});
