import { execFile } from 'node:child_process';
import os from 'node:os';
import type { Config } from '../config/schema.js';
import { UsageError } from '../errors.js';

/**
 * What each experiment slot gets of the machine: its GPUs (CUDA_VISIBLE_DEVICES) and its number
 * (CRUCIBLE_SLOT). A shortage is a bad setting of the run, said in one line before anything starts.
 */

const NVIDIA_SMI_TIMEOUT_MS = 15_000;

/** The GPU indices `nvidia-smi -L` lists ("GPU 0: NVIDIA H100 (UUID: GPU-…)" → "0"); MIG devices below a GPU are not counted. */
export function parseGpuList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => /^GPU (\d+):/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
}

/** The machine's GPU indices from `nvidia-smi -L`; null when nvidia-smi is absent or fails. */
export function listGpus(env: NodeJS.ProcessEnv = process.env): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { env, encoding: 'utf8', timeout: NVIDIA_SMI_TIMEOUT_MS, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : parseGpuList(stdout));
    });
  });
}

/**
 * Slot k (1-based) gets ids[(k-1)·perTrial .. k·perTrial). An id listed twice goes to two slots
 * (two small experiments on one GPU). Throws UsageError (exit 2) when there are too few.
 */
export function assignGpus(ids: readonly string[], workers: number, perTrial: number): string[][] {
  const needed = workers * perTrial;
  if (ids.length < needed) {
    const each = perTrial === 1 ? '1 GPU' : `${perTrial} GPUs`;
    const have = ids.length === 0 ? 'none' : `${ids.length} (${ids.join(', ')})`;
    throw new UsageError(`parallel.gpus: ${workers} slot${workers === 1 ? '' : 's'} × ${each} (parallel.gpus_per_trial) need ${needed} GPU${needed === 1 ? '' : 's'}; there ${ids.length === 1 ? 'is' : 'are'} ${have}`, {
      hints: ['Run fewer workers (--workers, parallel.workers), give each fewer GPUs, or list more ids in parallel.gpus (an id listed twice is shared by two slots).'],
    });
  }
  return Array.from({ length: workers }, (_, k) => ids.slice(k * perTrial, (k + 1) * perTrial));
}

/**
 * Per-slot variables: CRUCIBLE_SLOT=<k> always; CUDA_VISIBLE_DEVICES when parallel.gpus is set;
 * plus notices (e.g. "4 slots share 2 CPU cores").
 */
export async function slotEnvironments(
  parallel: Config['parallel'],
  workers: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ envs: Record<string, string>[]; notices: string[] }> {
  const notices: string[] = [];
  let gpus: string[][] | null = null;
  if (parallel.gpus !== null) {
    const ids = parallel.gpus === 'auto' ? await detectGpus(env, notices) : parallel.gpus;
    gpus = assignGpus(ids, workers, parallel.gpus_per_trial);
    const unused = ids.length - workers * parallel.gpus_per_trial;
    if (unused > 0) notices.push(`${unused} of ${ids.length} GPUs unused: ${workers} slot${workers === 1 ? '' : 's'} × ${parallel.gpus_per_trial} (parallel.gpus_per_trial)`);
  } else {
    const cores = os.availableParallelism();
    if (workers > cores) notices.push(`${workers} slots share ${cores} CPU core${cores === 1 ? '' : 's'}: experiments will run slower than alone`);
  }
  const envs = Array.from({ length: workers }, (_, k): Record<string, string> => ({
    CRUCIBLE_SLOT: String(k + 1),
    ...(gpus === null ? {} : { CUDA_VISIBLE_DEVICES: gpus[k]!.join(',') }),
  }));
  return { envs, notices };
}

/**
 * `auto`: the GPUs crucible was given (CUDA_VISIBLE_DEVICES, as a cluster's scheduler sets it),
 * else every GPU `nvidia-smi -L` lists.
 */
async function detectGpus(env: NodeJS.ProcessEnv, notices: string[]): Promise<string[]> {
  const given = env['CUDA_VISIBLE_DEVICES'];
  if (given !== undefined) {
    const ids = given.split(',').map((id) => id.trim()).filter((id) => id !== '');
    // CUDA stops at the first invalid entry; "" and "-1" are the usual ways to say "no GPU".
    const invalid = ids.findIndex((id) => id.startsWith('-'));
    const usable = invalid === -1 ? ids : ids.slice(0, invalid);
    if (usable.length === 0) {
      throw new UsageError(`parallel.gpus is auto, but CUDA_VISIBLE_DEVICES ("${given}") gives crucible no GPU`, {
        hints: ['Unset CUDA_VISIBLE_DEVICES (auto then asks nvidia-smi), list the GPU ids in parallel.gpus, or remove parallel.gpus.'],
      });
    }
    notices.push(`parallel.gpus: auto takes the GPUs of CUDA_VISIBLE_DEVICES (${given})`);
    return usable;
  }
  const ids = await listGpus(env);
  if (ids === null) {
    throw new UsageError('parallel.gpus is auto, but `nvidia-smi -L` is not installed or failed, so no GPU can be found', {
      hints: ['List the GPU ids yourself (parallel.gpus: [0, 1]), or remove parallel.gpus to run without setting CUDA_VISIBLE_DEVICES.'],
    });
  }
  return ids;
}
