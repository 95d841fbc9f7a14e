import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { CrucibleError } from '../../src/errors.js';
import { listGpus, slotEnvironments } from '../../src/runner/slot-resources.js';

// test/fixtures/bin/nvidia-smi, first on PATH: FAKE_GPUS GPUs, FAKE_MIG, FAKE_NVIDIA_SMI_EXIT.
const bin = fileURLToPath(new URL('../fixtures/bin', import.meta.url));
const withFake = (vars: Record<string, string> = {}): NodeJS.ProcessEnv => ({ PATH: `${bin}:${process.env['PATH'] ?? ''}`, ...vars });
// A PATH without any nvidia-smi (the tools the fake needs are not needed either).
const withoutNvidiaSmi: NodeJS.ProcessEnv = { PATH: '/nonexistent' };

function parallel(settings: Record<string, unknown>): Config['parallel'] {
  const config = configSchema.parse({
    name: 't',
    files: { editable: ['a.py'] },
    commands: { run: 'true', eval: 'true' },
    metric: { name: 'm', direction: 'maximize' },
    parallel: settings,
  });
  return config.parallel;
}

async function failure(promise: Promise<unknown>): Promise<CrucibleError> {
  const error = await promise.then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CrucibleError);
  return error as CrucibleError;
}

describe('listGpus', () => {
  it('reads the GPU indices from nvidia-smi -L (MIG devices are not GPUs)', async () => {
    expect(await listGpus(withFake({ FAKE_GPUS: '4', FAKE_MIG: '1' }))).toEqual(['0', '1', '2', '3']);
  });

  it('is null when nvidia-smi fails or is not installed', async () => {
    expect(await listGpus(withFake({ FAKE_NVIDIA_SMI_EXIT: '9' }))).toBeNull();
    expect(await listGpus(withoutNvidiaSmi)).toBeNull();
  });
});

describe('slotEnvironments', () => {
  it('gpus: auto shares out what nvidia-smi lists, gpus_per_trial to each slot, and numbers every slot', async () => {
    const { envs, notices } = await slotEnvironments(parallel({ gpus: 'auto', gpus_per_trial: 2 }), 2, withFake({ FAKE_GPUS: '4' }));
    expect(envs).toEqual([
      { CRUCIBLE_SLOT: '1', CUDA_VISIBLE_DEVICES: '0,1' },
      { CRUCIBLE_SLOT: '2', CUDA_VISIBLE_DEVICES: '2,3' },
    ]);
    expect(notices).toEqual([]);
  });

  it('gpus: auto takes the GPUs crucible was given in CUDA_VISIBLE_DEVICES (a cluster job), and says what is unused', async () => {
    const { envs, notices } = await slotEnvironments(parallel({ gpus: 'auto' }), 2, withFake({ FAKE_GPUS: '8', CUDA_VISIBLE_DEVICES: '5,7,GPU-abc' }));
    expect(envs.map((e) => e['CUDA_VISIBLE_DEVICES'])).toEqual(['5', '7']);
    expect(notices).toEqual(['parallel.gpus: auto takes the GPUs of CUDA_VISIBLE_DEVICES (5,7,GPU-abc)', '1 of 3 GPUs unused: 2 slots × 1 (parallel.gpus_per_trial)']);
  });

  it('a list of ids is used as written; without parallel.gpus only CRUCIBLE_SLOT is set', async () => {
    expect((await slotEnvironments(parallel({ gpus: [3, 'GPU-x'] }), 2, withoutNvidiaSmi)).envs).toEqual([
      { CRUCIBLE_SLOT: '1', CUDA_VISIBLE_DEVICES: '3' },
      { CRUCIBLE_SLOT: '2', CUDA_VISIBLE_DEVICES: 'GPU-x' },
    ]);
    expect((await slotEnvironments(parallel({}), 3, withoutNvidiaSmi)).envs).toEqual([{ CRUCIBLE_SLOT: '1' }, { CRUCIBLE_SLOT: '2' }, { CRUCIBLE_SLOT: '3' }]);
  });

  it('says when more slots than CPU cores share the machine', async () => {
    const cores = os.availableParallelism();
    expect((await slotEnvironments(parallel({}), cores + 1, withoutNvidiaSmi)).notices).toEqual([`${cores + 1} slots share ${cores} CPU core${cores === 1 ? '' : 's'}: experiments will run slower than alone`]);
    expect((await slotEnvironments(parallel({}), cores, withoutNvidiaSmi)).notices).toEqual([]);
  });

  it('gpus: auto without a working nvidia-smi: one line naming parallel.gpus, exit code 2', async () => {
    for (const env of [withoutNvidiaSmi, withFake({ FAKE_NVIDIA_SMI_EXIT: '9' })]) {
      const error = await failure(slotEnvironments(parallel({ gpus: 'auto' }), 2, env));
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe('parallel.gpus is auto, but `nvidia-smi -L` is not installed or failed, so no GPU can be found');
    }
  });

  it('gpus: auto when CUDA_VISIBLE_DEVICES gives no GPU ("" or -1): one line naming it, exit code 2', async () => {
    for (const given of ['', '-1']) {
      const error = await failure(slotEnvironments(parallel({ gpus: 'auto' }), 1, withFake({ CUDA_VISIBLE_DEVICES: given })));
      expect(error.exitCode).toBe(2);
      expect(error.message).toBe(`parallel.gpus is auto, but CUDA_VISIBLE_DEVICES ("${given}") gives crucible no GPU`);
    }
  });

  it('too few GPUs for the slots: one line, exit code 2', async () => {
    const error = await failure(slotEnvironments(parallel({ gpus: 'auto', gpus_per_trial: 2 }), 3, withFake({ FAKE_GPUS: '4' })));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('parallel.gpus: 3 slots × 2 GPUs (parallel.gpus_per_trial) need 6 GPUs; there are 4 (0, 1, 2, 3)');
  });
});
