import { localExecutor } from './execute.js';
import { jobName } from './slurm/job-script.js';
import { cancelJob } from './slurm/slurm-commands.js';
import type { ExecutionHandle, Executor } from './types.js';

export interface LeftoverJobsOptions {
  tag: string;
  projectDir: string;
  /** How scancel reaches the cluster (PATH, SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  /** The ledger shows Slurm jobs: a trial without a recorded job id may still have one, found by name. */
  usedSlurm: boolean;
}

export interface LeftoverJobs {
  /** `base`, except that each handle is ended by the kind of executor that made it, whatever `base` is. */
  executor: Executor;
  /** One line naming the jobs scancel could not reach (they may still run); null when there are none. */
  warning(): string | null;
}

/**
 * The executor a recovery ends a killed run's experiments through: the ledger's handle, not
 * `executor.type`, says how. A user who switches to `local` after a crash still has the dead run's
 * Slurm jobs in the queue, and one who switches to `slurm` still has its process groups on this
 * machine. When scancel cannot reach the cluster, the jobs are named (once the first call fails,
 * the others are not tried: each could wait for a timeout).
 */
export function withLeftoverJobs(base: Executor, options: LeftoverJobsOptions): LeftoverJobs {
  const missed: ExecutionHandle[] = [];
  let problem: string | null = null;

  async function cancel(handle: ExecutionHandle): Promise<void> {
    if (handle.executor === 'local') return localExecutor.cancel(handle);
    const targets = [...(handle.jobId !== '' ? [{ jobId: handle.jobId }] : []), ...(handle.name !== '' ? [{ name: handle.name }] : [])];
    for (const target of targets) {
      if (problem === null) problem = await cancelJob(target, options.env);
      if (problem !== null) {
        missed.push(handle);
        return;
      }
    }
  }

  const byName = (trial: number): ExecutionHandle => ({ executor: 'slurm', jobId: '', name: jobName(options.tag, String(trial), options.projectDir), dir: '' });
  const orphanHandle = base.orphanHandle ? (trial: number): ExecutionHandle => base.orphanHandle!(trial) : options.usedSlurm ? byName : undefined;
  const executor: Executor = {
    run: (spec, signal) => base.run(spec, signal),
    cancel,
    ...(base.runExperiment ? { runExperiment: (spec, signal) => base.runExperiment!(spec, signal) } : {}),
    ...(base.adopt ? { adopt: (handle, spec, signal) => base.adopt!(handle, spec, signal) } : {}),
    ...(orphanHandle ? { orphanHandle } : {}),
  };
  return {
    executor,
    warning: () => {
      if (missed.length === 0) return null;
      const commands = missed.map((h) => (h.executor === 'slurm' && h.jobId !== '' ? `scancel ${h.jobId}` : `scancel --name=${h.executor === 'slurm' ? h.name : ''}`));
      return `the last run's Slurm jobs could not be cancelled (${problem ?? 'scancel failed'}); they may still be running: ${[...new Set(commands)].join('; ')}`;
    },
  };
}
