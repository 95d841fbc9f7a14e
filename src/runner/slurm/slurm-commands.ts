import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { parseJobLine, type JobInfo } from './job-state.js';

/** How long one Slurm command may take before crucible gives up on it (a hung controller). */
const commandTimeoutMs = 30_000;

export interface CommandOutput {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** spawn error (ENOENT: not installed) or the exit, in one line. */
  problem: string;
}

/** Runs one Slurm client command; never throws. */
export function runSlurmCommand(file: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = commandTimeoutMs): Promise<CommandOutput> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ ok: true, stdout, stderr, problem: '' });
        return;
      }
      const code = (error as NodeJS.ErrnoException).code;
      const problem =
        code === 'ENOENT'
          ? `${file} not found (is Slurm installed on this machine, and on PATH?)`
          : error.killed
            ? `${file} did not answer within ${String(timeoutMs / 1000)}s${stderr.trim() ? ` (${stderr.trim().split('\n')[0]!})` : ''}`
            : `${file} failed: ${(stderr.trim().split('\n').at(-1) ?? '') || error.message}`;
      resolve({ ok: false, stdout, stderr, problem });
    });
  });
}

/** The job's state; `gone` when the controller no longer knows it (finished long ago, or never). */
export async function queryJob(jobId: string, env: NodeJS.ProcessEnv): Promise<{ kind: 'known'; info: JobInfo } | { kind: 'gone' } | { kind: 'error'; problem: string }> {
  const out = await runSlurmCommand('scontrol', ['show', 'job', '-o', jobId], env);
  if (out.ok) {
    const info = parseJobLine(out.stdout.split('\n')[0] ?? '');
    return info === null ? { kind: 'gone' } : { kind: 'known', info };
  }
  if (/invalid job id/i.test(out.stderr)) return { kind: 'gone' };
  return { kind: 'error', problem: out.problem };
}

/** The ids of this user's jobs named `name` that the controller still knows. */
export async function jobsNamed(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const out = await runSlurmCommand('squeue', ['-h', '-n', name, '-o', '%i'], env);
  return out.ok ? out.stdout.split('\n').map((l) => l.trim()).filter((l) => /^\d+(_\d+)?$/.test(l)) : [];
}

/**
 * Cancels a job (by id) or every job named `name`; a job that is gone is no error (scancel says
 * nothing and exits 0). Returns null, or the problem in one line when scancel could not ask the
 * controller (not installed, no configuration, no answer): the job may still run.
 */
export async function cancelJob(target: { jobId: string } | { name: string }, env: NodeJS.ProcessEnv, timeoutMs = commandTimeoutMs): Promise<string | null> {
  // By name: only this user's jobs (as root, scancel would reach everyone's).
  const args = 'jobId' in target ? [target.jobId] : [`--name=${target.name}`, `--user=${userInfo().username}`];
  const out = await runSlurmCommand('scancel', args, env, timeoutMs);
  return out.ok ? null : out.problem;
}
