import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { slotJobAdoptable } from '../../src/loop/adopt-job.js';
import { withLeftoverJobs } from '../../src/runner/leftover-jobs.js';
import type { ExecutionHandle, Executor } from '../../src/runner/types.js';
import type { LedgerEvent } from '../../src/store/ledger.js';

const ev = (type: string, extra: Record<string, unknown> = {}): LedgerEvent => ({ type, ts: '2026-12-04T00:00:00Z', n: 3, ...extra }) as LedgerEvent;
const job = { executor: 'slurm', jobId: '12', name: 'crucible-t-3-abcdef01', dir: '/x' } as const;

describe('slotJobAdoptable: only the job of a trial\'s first measurement of its candidate', () => {
  it.each([
    ['the first job, running', [ev('trial.start'), ev('commit'), ev('run.start', { slot: 1, handle: job })], true],
    ['resubmitted after a lost node', [ev('run.start', { slot: 1 }), ev('run.start', { slot: 1 })], true],
    ['no job yet', [ev('trial.start'), ev('commit')], false],
    ['a confirmation run of the incumbent', [ev('run.start', { slot: 1 }), ev('run.done'), ev('run.start', { slot: 1, role: 'incumbent' })], false],
    ['a confirmation run of the candidate', [ev('run.start', { slot: 1 }), ev('run.done'), ev('run.start', { slot: 1 })], false],
  ])('%s → %s', (_, events, expected) => {
    expect(slotJobAdoptable(events)).toBe(expected);
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
