import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { assignGpus, parseGpuList } from '../../src/runner/slot-resources.js';

describe('parseGpuList', () => {
  it.each([
    ['two GPUs', 'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-aaa)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-bbb)\n', ['0', '1']],
    ['MIG devices below a GPU are not GPUs', 'GPU 0: NVIDIA A100 (UUID: GPU-a)\n  MIG 1g.5gb Device 0: (UUID: MIG-a)\n  MIG 1g.5gb Device 1: (UUID: MIG-b)\n', ['0']],
    ['indices as listed, two digits too', 'GPU 10: X (UUID: GPU-x)\nGPU 11: Y (UUID: GPU-y)\n', ['10', '11']],
    ['no GPU', 'No devices were found\n', []],
    ['empty output', '', []],
  ])('%s', (_label, stdout, ids) => {
    expect(parseGpuList(stdout)).toEqual(ids);
  });
});

describe('assignGpus', () => {
  it.each([
    ['one each', ['0', '1', '2', '3'], 4, 1, [['0'], ['1'], ['2'], ['3']]],
    ['two each', ['0', '1', '2', '3'], 2, 2, [['0', '1'], ['2', '3']]],
    ['more GPUs than needed: the first ones', ['0', '1', '2', '3'], 1, 2, [['0', '1']]],
    ['ids as given (UUIDs), in their order', ['GPU-b', 'GPU-a'], 2, 1, [['GPU-b'], ['GPU-a']]],
    ['an id listed twice goes to two slots', ['0', '0', '1', '1'], 4, 1, [['0'], ['0'], ['1'], ['1']]],
  ])('%s', (_label, ids, workers, perTrial, slots) => {
    expect(assignGpus(ids, workers, perTrial)).toEqual(slots);
  });

  it.each([
    [['0', '1'], 3, 1, 'parallel.gpus: 3 slots × 1 GPU (parallel.gpus_per_trial) need 3 GPUs; there are 2 (0, 1)'],
    [['0', '1', '2'], 2, 2, 'parallel.gpus: 2 slots × 2 GPUs (parallel.gpus_per_trial) need 4 GPUs; there are 3 (0, 1, 2)'],
    [[], 1, 1, 'parallel.gpus: 1 slot × 1 GPU (parallel.gpus_per_trial) need 1 GPU; there are none'],
  ])('too few: one line, exit code 2 (%j for %i × %i)', (ids, workers, perTrial, message) => {
    let error: unknown;
    try {
      assignGpus(ids, workers, perTrial);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toBe(message);
  });
});
