import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { slotJobAdoptable } from '../../src/loop/adopt-job.js';
import { withLeftoverJobs } from '../../src/runner/leftover-jobs.js';
import type { ExecutionHandle, Executor } from '../../src/runner/types.js';
import { foldRun } from '../../src/store/fold-run.js';
import type { LedgerEvent } from '../../src/store/ledger.js';
import { ev, sha, steps } from '../helpers/ledger-events.js';

const job = { executor: 'slurm', jobId: '12', name: 'crucible-t-3-abcdef01', dir: '/x' } as const;
const slotRun = (role?: 'incumbent'): LedgerEvent => ev('run.start', { n: 3, sha: sha(103), handle: job, slot: 1, ...(role ? { role } : {}) });
const committed = [steps.start(3, sha(1)), steps.agent(3), ev('guard', { n: 3, outcome: 'ok', files: ['a.js'] }), ev('commit', { n: 3, sha: sha(103), parent: sha(1), base: sha(1) })];
const incumbentDone = ev('run.done', { n: 3, exitCode: 0, signal: null, timedOut: false, metric: 4, reason: null, ms: 20, role: 'incumbent' });

describe('slotJobAdoptable: only the job of a trial\'s first measurement of its candidate', () => {
  it.each([
    ['its first job', [slotRun()], true],
    ['resubmitted after a lost node', [slotRun(), slotRun()], true],
    ['its first job, which failed (killed before the decision: the same job decides again)', [slotRun(), steps.done(3, null)], true],
    ['a confirmation run of the incumbent', [slotRun(), steps.done(3, 7), slotRun('incumbent')], false],
    ['a confirmation run of the candidate', [slotRun(), steps.done(3, 7), slotRun('incumbent'), incumbentDone, slotRun()], false],
  ])('%s → %s', (_, events, expected) => {
    const node = foldRun([...committed, ...events]).inFlight.find((t) => t.trial === 3)!;
    expect(slotJobAdoptable(node)).toBe(expected);
  });
});

function localBase(): { base: Executor; cancelled: ExecutionHandle[] } {
  const cancelled: ExecutionHandle[] = [];
  const base: Executor = {
    run: () => Promise.reject(new Error('not run here')),
    cancel: (handle) => {
      cancelled.push(handle);
      return Promise.resolve();
    },
  };
  return { base, cancelled };
}

describe('withLeftoverJobs: each of the dead run\'s experiments is ended by its own kind, whatever executor.type says now', () => {
  const options = { tag: 't', projectDir: '/p/a', usedSlurm: true };

  it('ends a dead run\'s process group on this machine even when the executor now is another (slurm)', async () => {
    const { base, cancelled } = localBase();
    const child = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const jobs = withLeftoverJobs(base, { ...options, env: {} });
    await jobs.executor.cancel({ executor: 'local', pgid: child.pid!, processTag: '' });
    expect(await exited).toBeNull();
    expect(child.signalCode).toBe('SIGKILL');
    expect(cancelled).toEqual([]);
  });

  it('finds a job by name only where the ledger shows Slurm jobs', () => {
    const { base } = localBase();
    const jobs = withLeftoverJobs(base, { ...options, env: {} });
    expect(jobs.executor.orphanHandle?.(3)).toMatchObject({ executor: 'slurm', jobId: '', name: expect.stringMatching(/^crucible-t-3-[0-9a-f]{8}$/) as unknown });
    expect(withLeftoverJobs(base, { ...options, usedSlurm: false, env: {} }).executor.orphanHandle).toBeUndefined();
  });

  it('names every job it could not cancel in one line, with the command for each, when scancel is not there', async () => {
    const { base, cancelled } = localBase();
    const jobs = withLeftoverJobs(base, { ...options, env: { PATH: '/nonexistent' } });
    expect(jobs.warning()).toBeNull();
    await jobs.executor.cancel(job);
    await jobs.executor.cancel(jobs.executor.orphanHandle!(4));
    expect(cancelled).toEqual([]);
    const warning = jobs.warning()!;
    expect(warning.split('\n')).toHaveLength(1);
    expect(warning).toMatch(/could not be cancelled \(scancel not found/);
    expect(warning).toContain('scancel 12;');
    expect(warning).toMatch(/scancel --name=crucible-t-4-[0-9a-f]{8}$/);
  });
});
