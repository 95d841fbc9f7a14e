/**
 * The machine the experiment will run on, so the wizard proposes what runs here: a Python
 * project only where Python is, CUDA only with an NVIDIA GPU, sizes that fit the RAM. Every
 * probe has a short time limit and a failed probe means "not available", never an error.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';

export interface PythonInfo {
  /** The command that ran it: python3 or python. */
  command: string;
  version: string;
  /** torch.__version__ when `import torch` works, else null. */
  torch: string | null;
  torchCuda: boolean;
  torchMps: boolean;
  /** Apple's MLX is installed. */
  mlx: boolean;
}

export interface GpuInfo {
  name: string;
  /** As nvidia-smi says it, e.g. "81559 MiB". */
  memory: string;
}

export interface DetectedEnvironment {
  platform: string;
  release: string;
  arch: string;
  node: string;
  cpus: number;
  ramGb: number;
  python: PythonInfo | null;
  gpus: GpuInfo[];
}

export interface DetectOptions {
  env?: NodeJS.ProcessEnv;
  /** Limit of each probe (default 5 s; `import torch` gets twice that). */
  timeoutMs?: number;
}

// One process answers every Python question; find_spec spares importing MLX.
const PYTHON_PROBE = `import json, platform, importlib.util
info = {"version": platform.python_version(), "torch": None, "cuda": False, "mps": False, "mlx": importlib.util.find_spec("mlx") is not None}
try:
    import torch
    info["torch"] = str(torch.__version__)
    info["cuda"] = bool(torch.cuda.is_available())
    mps = getattr(torch.backends, "mps", None)
    info["mps"] = bool(mps is not None and mps.is_available())
except Exception:
    pass
print(json.dumps(info))`;

export async function detectEnvironment(options: DetectOptions = {}): Promise<DetectedEnvironment> {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const [python, gpus] = await Promise.all([detectPython(env, timeoutMs * 2), detectNvidiaGpus(env, timeoutMs)]);
  return {
    platform: os.platform(),
    release: os.release(),
    arch: os.arch(),
    node: process.version,
    cpus: os.availableParallelism(),
    ramGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    python,
    gpus,
  };
}

async function detectPython(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<PythonInfo | null> {
  for (const command of ['python3', 'python']) {
    const output = await probe(command, ['-c', PYTHON_PROBE], env, timeoutMs);
    if (output === null) continue;
    try {
      const info = JSON.parse(output.trim().split('\n').pop() ?? '') as { version?: unknown; torch?: unknown; cuda?: unknown; mps?: unknown; mlx?: unknown };
      if (typeof info.version !== 'string') continue;
      return { command, version: info.version, torch: typeof info.torch === 'string' ? info.torch : null, torchCuda: info.cuda === true, torchMps: info.mps === true, mlx: info.mlx === true };
    } catch {
      // Python 2, or something else answering to the name: not a Python the wizard can use.
    }
  }
  return null;
}

async function detectNvidiaGpus(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<GpuInfo[]> {
  const output = await probe('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], env, timeoutMs);
  return output === null ? [] : parseNvidiaSmi(output);
}

/** `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader` lines → GPUs. */
export function parseNvidiaSmi(output: string): GpuInfo[] {
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^(no devices|nvidia-smi has failed)/i.test(line))
    .map((line) => {
      const comma = line.lastIndexOf(',');
      return comma < 0 ? { name: line, memory: '' } : { name: line.slice(0, comma).trim(), memory: line.slice(comma + 1).trim() };
    });
}

/** Standard output of a command that exits 0 within the limit, else null. */
function probe(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 256 * 1024, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : stdout);
    });
  });
}

/** The environment as the model reads it. */
export function formatEnvironment(env: DetectedEnvironment): string {
  const lines = ['[Detected runtime environment]', `OS: ${env.platform} ${env.release} (${env.arch})`];
  if (env.platform === 'darwin' && env.arch === 'arm64') lines.push('Hardware: Apple Silicon');
  lines.push(`CPU cores: ${env.cpus}`, `RAM: ${env.ramGb} GB`, `Node.js: ${env.node}`);
  if (env.python === null) {
    lines.push('Python: not found');
  } else {
    const py = env.python;
    lines.push(`Python: ${py.version} (${py.command})`);
    const backends = [py.torchCuda ? 'CUDA' : null, py.torchMps ? 'MPS' : null].filter((b) => b !== null);
    lines.push(py.torch === null ? 'PyTorch: not installed' : `PyTorch: ${py.torch} (${backends.length > 0 ? backends.join(', ') : 'CPU only'})`);
    if (py.mlx) lines.push('MLX: installed');
  }
  lines.push(env.gpus.length === 0 ? 'NVIDIA GPUs: none' : `NVIDIA GPUs: ${env.gpus.map((gpu) => (gpu.memory ? `${gpu.name} (${gpu.memory})` : gpu.name)).join(', ')}`);
  return lines.join('\n');
}
