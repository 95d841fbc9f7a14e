import type { Config } from '../config/schema.js';
import { localExecutor } from './execute.js';
import { createSlurmExecutor } from './slurm/slurm-executor.js';
import type { Executor } from './types.js';

/** The executor `executor.type` names: switching between local and slurm is that one key. */
export function chooseExecutor(config: Pick<Config, 'executor'>, run: { projectDir: string; tag: string; env: NodeJS.ProcessEnv }): Executor {
  if (config.executor.type === 'slurm') return createSlurmExecutor({ settings: config.executor.slurm, ...run });
  return localExecutor;
}
