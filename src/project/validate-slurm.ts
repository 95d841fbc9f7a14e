import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { CrucibleError } from '../errors.js';
import { experimentEnv } from '../runner/environment.js';
import { runSlurmCommand } from '../runner/slurm/slurm-commands.js';
import type { Executor } from '../runner/types.js';
import type { Check } from './validate-project.js';

/**
 * `crucible validate` with `executor: slurm`, before the experiment runs as a job: the cluster
 * answers, and a job's compute node sees the project folder (a file written by a job, read back
 * here). Each failure is one line saying what to fix. False when the experiment cannot run.
 */
export async function checkSlurm(dir: string, config: Config, executor: Executor, env: NodeJS.ProcessEnv, add: (check: Check) => void): Promise<boolean> {
  // Slurm's clients retry a missing or unreachable controller for a minute: validate says so sooner.
  const sinfo = await runSlurmCommand('sinfo', ['-h', '-o', '%P %a %D %T'], env, 10_000);
  if (!sinfo.ok) {
    add({ name: 'Slurm', status: 'fail', message: `sinfo cannot reach the cluster: ${sinfo.problem} (run crucible on a login node, or set SLURM_CONF)` });
    return false;
  }
  const partitions = sinfo.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter((p): p is string => p !== undefined && p !== '');
  add({ name: 'Slurm', status: 'pass', message: `sinfo answers: partitions ${[...new Set(partitions)].join(', ') || '(none listed)'}` });

  const probe = path.join(dir, `.crucible-slurm-probe-${randomBytes(4).toString('hex')}`);
  const timeoutMs = Math.min(120_000, config.constraints.timeout_seconds * 1000);
  try {
    const result = await executor.run({ command: `hostname > ${quote(probe)}`, cwd: dir, env: { ...experimentEnv({ projectDir: dir, base: env, passEnv: config.commands.pass_env }), CRUCIBLE_TRIAL: 'validate' }, timeoutMs });
    const seen = existsSync(probe) ? readFileSync(probe, 'utf8').trim() : null;
    if (result.exitCode === 0 && seen !== null) {
      add({ name: 'Slurm job', status: 'pass', message: `a job on ${seen || 'the compute node'} wrote into the project folder and crucible read it back` });
      return true;
    }
    const why = result.exitCode === 0 ? 'the job ran but its file never appeared here: the compute nodes must see this folder at the same path (a shared filesystem)' : result.shortMessage;
    add({ name: 'Slurm job', status: 'fail', message: `a test job failed: ${why} (check executor.slurm.sbatch_args and setup)` });
    return false;
  } catch (error) {
    if (!(error instanceof CrucibleError)) throw error;
    add({ name: 'Slurm job', status: 'fail', message: error.message });
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
