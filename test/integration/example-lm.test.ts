import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy, tempPath } = useExampleCopies('optimize-lm', 'train.py');

interface Python {
  /** The interpreter's real path (sys.executable), not a shim that depends on the shell. */
  exe: string;
  torch: boolean;
}

/** The Pythons this machine has among `python3` on PATH and the system one, and which have torch. */
function findPythons(): Python[] {
  const found: Python[] = [];
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 20_000 });
    const exe = probe.status === 0 ? probe.stdout.trim() : '';
    if (exe === '' || found.some((p) => p.exe === exe)) continue;
    const torch = spawnSync(exe, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
    found.push({ exe, torch });
  }
  return found;
}

const pythons = findPythons();
const torchPython = pythons.find((p) => p.torch)?.exe;
const anyPython = pythons[0]?.exe;
if (torchPython === undefined) {
  console.warn('example-lm: no python3 with PyTorch here (try apt-get install python3-torch): training tests skipped');
}

// A budget of a few seconds on the CPU, a small validation text: the whole pipeline, quickly.
const quickEnv = { CRUCIBLE_LM_BUDGET_SECONDS: '3', CRUCIBLE_LM_DEVICE: 'cpu', CRUCIBLE_LM_VAL_BYTES: '8192' };

/** A fresh copy of the example, optionally with another train.py, its .venv/bin/python3 linked to `python`. */
function copyExample(options: { train?: string; python?: string } = {}): string {
  const dir = copy(options.train);
  if (options.python !== undefined) {
    mkdirSync(path.join(dir, '.venv', 'bin'), { recursive: true });
    symlinkSync(options.python, path.join(dir, '.venv', 'bin', 'python3'));
  }
  return dir;
}

/** A python3 without torch: a real one when the machine has it, else one whose torch import fails. */
function pythonWithoutTorch(): string {
  const plain = pythons.find((p) => !p.torch)?.exe;
  if (plain !== undefined) return plain;
  const blocker = tempPath('no-torch');
  mkdirSync(blocker, { recursive: true });
  // None in sys.modules makes "import torch" raise ImportError, as when it is not installed.
  writeFileSync(path.join(blocker, 'sitecustomize.py'), "import sys\nsys.modules['torch'] = None\n");
  const wrapper = path.join(blocker, 'python3');
  writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH='${blocker}' exec '${anyPython ?? 'python3'}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  return wrapper;
}

function runAsync(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { ...options, encoding: 'utf8', timeout: 90_000 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

/** A train.py whose model is one embedding table (fast to export and score) with `forward` swapped in. */
function tinyTrain(options: { forward?: string; prelude?: string; train?: string } = {}): string {
  return [
    'import torch',
    'import torch.nn as nn',
    options.prelude ?? '',
    'class Tiny(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.context_length = 32',
    '        self.emb = nn.Embedding(256, 256)',
    '    def forward(self, idx):',
    `        ${options.forward ?? 'return self.emb(idx)'}`,
    'def train(data, budget_seconds, device):',
    `    ${options.train ?? 'return Tiny().to(device)'}`,
    '',
  ].join('\n');
}

describe('optimize-lm example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-lm',
      files: { editable: ['train.py'], readonly: ['sample.txt'], hidden: ['evaluate.py', 'scoring.py', 'corpus.py'] },
      commands: { run: 'python3 evaluate.py', eval: 'cat run.log' },
      metric: { name: 'val_bpb', direction: 'minimize' },
    });
    expect(result.config.description).toMatch(/language model/);
  });

  it('marks the hyper-parameters for the offline tuner', () => {
    const scan = parseMarkers(readFileSync(path.join(example, 'train.py'), 'utf8'), 'train.py');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => m.identifier)).toEqual([
      'CONTEXT_LENGTH',
      'N_LAYER',
      'N_EMBD',
      'BATCH_SIZE',
      'LEARNING_RATE',
      'WEIGHT_DECAY',
    ]);
  });

  it.skipIf(anyPython === undefined)('ships a sample.txt that is the start of the training text', () => {
    const result = spawnSync(
      anyPython ?? 'python3',
      ['-c', 'import sys; sys.path.insert(0, "."); from corpus import generate_text; sys.stdout.write(generate_text(int(sys.argv[1]), 8000))', '20250101'],
      { cwd: example, encoding: 'utf8', timeout: 20_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
    );
    expect(result.status).toBe(0);
    const evaluate = readFileSync(path.join(example, 'evaluate.py'), 'utf8');
    expect(evaluate).toMatch(/^TRAIN_SEED = 20250101$/m);
    const sample = readFileSync(path.join(example, 'sample.txt'), 'utf8');
    expect(sample.length).toBeGreaterThan(2000);
    expect(result.stdout.startsWith(sample)).toBe(true);
  });

  it.skipIf(anyPython === undefined)('says in one line that PyTorch is missing, and validate fails with it', () => {
    const python = pythonWithoutTorch();
    const dir = copyExample({ python });
    const direct = spawnSync(path.join(dir, '.venv', 'bin', 'python3'), ['evaluate.py'], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    expect(direct.status).toBe(1);
    expect(direct.stderr).toMatch(/^PyTorch is not installed for \S+: create \.venv and pip install torch \(see README\)\n$/);

    const validate = validateCopy(dir, { timeoutMs: 30_000 });
    expect(validate.status).not.toBe(0);
    expect(validate.stdout).toMatch(/\[FAIL\] Run command: .*PyTorch is not installed for \S+: create \.venv and pip install torch/);
  });

  it.skipIf(torchPython === undefined)('passes crucible validate on the CPU with a tiny budget', () => {
    const dir = copyExample({ python: torchPython ?? '' });
    const result = validateCopy(dir, { env: quickEnv, timeoutMs: 90_000 });
    expect(result.stdout).toMatch(/\[PASS\] Run command/);
    expect(result.status).toBe(0);
    const bpb = Number(/\[PASS\] Eval\/metric: val_bpb: (\S+)/.exec(result.stdout)?.[1]);
    // Uniform guessing over 256 byte values is 8 bits per byte; a few seconds of training beat it.
    expect(bpb).toBeGreaterThan(0.5);
    expect(bpb).toBeLessThan(8);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(log).toMatch(/^val_bpb: \d+\.\d{4}\nval_loss: [\d.]+\ncontext_length: 64\nparameters: \d+\ntrain_seconds: [\d.]+\neval_seconds: [\d.]+\nbudget_seconds: 3\ndevice: cpu\n$/);
  }, 100_000);

  describe.skipIf(torchPython === undefined)('a train.py that breaks the contract or games the harness', { concurrent: true }, () => {
    const evaluate = (train: string) => {
      const dir = copyExample({ train });
      return runAsync(torchPython ?? 'python3', ['evaluate.py'], { cwd: dir, env: { ...process.env, ...quickEnv, CRUCIBLE_LM_BUDGET_SECONDS: '1' } }).then((result) => ({
        ...result,
        log: readFileSync(path.join(dir, 'run.log'), 'utf8'),
      }));
    };

    it.each([
      ['sees the next byte', tinyTrain({ forward: 'return self.emb(idx) + 30 * nn.functional.one_hot(torch.roll(idx, -1, 1), 256).float()' }), /not causal/],
      ['mixes the rows of a batch', tinyTrain({ forward: 'out = self.emb(idx)\n        return out + out.mean(0, keepdim=True)' }), /mixes the rows/],
      ['adds noise in eval mode', tinyTrain({ forward: 'return self.emb(idx) + torch.rand_like(self.emb(idx))' }), /not deterministic/],
      ['returns the wrong shape', tinyTrain({ forward: 'return self.emb(idx)[:, :, :100]' }), /returned shape \(128, 32, 100\)/],
      ['returns no module', tinyTrain({ train: 'return "a model"' }), /not a torch\.nn\.Module/],
      ['has no context_length', tinyTrain({ train: 'm = Tiny(); del m.context_length; return m' }), /context_length/],
      ['raises', tinyTrain({ train: 'raise RuntimeError("out of ideas")' }), /RuntimeError: out of ideas/],
      ['trains past its budget', tinyTrain({ prelude: 'import time', train: 'time.sleep(60)' }), /ran past its time budget/],
    ])('is a crash when the model %s', async (_, train, message) => {
      const result = await evaluate(train);
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.log).toMatch(/^error: /);
      expect(metricValue(result.log, 'val_bpb')).toBeUndefined();
    });

    it('does not let train.py print the metric or write run.log', async () => {
      const train = tinyTrain({
        prelude: [
          'import os, sys',
          'print("val_bpb: 0.0001"); sys.stderr.write("val_bpb: 0.0001\\n")',
          'open("run.log", "w").write("val_bpb: 0.0001\\n")',
          // The harness's own folder, found through the parent process: overwritten at the end.
          'try:\n    open("/proc/%d/cwd/run.log" % os.getppid(), "w").write("val_bpb: 0.0002\\n")\nexcept OSError:\n    pass',
        ].join('\n'),
      });
      const result = await evaluate(train);
      expect(result.status).toBe(0);
      expect(result.stdout + result.stderr).not.toMatch(/0\.000[12]/);
      expect(result.log).toMatch(/^val_bpb: \d+\.\d{4}\n/);
      // An untrained embedding table is no better than guessing.
      expect(metricValue(result.log, 'val_bpb')).toBeGreaterThan(7);
    });
  });
});
