import { statSync } from 'node:fs';
import path from 'node:path';

/**
 * What an experiment may inherit from crucible's environment: only what is known to be harmless.
 * Everything else (a database password, a DSN, a webhook, a vendor's key under any name) stays
 * with crucible unless `commands.pass_env` lists it: when in doubt, keep it out.
 */
const harmlessNames = new Set([
  // Who and where: the basics every program expects.
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'HOSTNAME', 'TMPDIR', 'TMP', 'TEMP', 'TZ',
  // Language and terminal: how output is encoded and shown.
  'LANG', 'LANGUAGE', 'TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'CLICOLOR', 'COLUMNS', 'LINES', 'CI',
  // A display for plots; XAUTHORITY (a cookie that grants the display) is left out.
  'DISPLAY', 'WAYLAND_DISPLAY', 'MPLBACKEND', 'MPLCONFIGDIR',
  // Git's identity, for experiments that call git; not GIT_* as a whole (GIT_CONFIG_PARAMETERS
  // can carry an Authorization header, GIT_DIR would point at the project's history).
  'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL',
  // Accelerators: which device to use. NVIDIA_* as a whole would include NVIDIA_API_KEY.
  'NVIDIA_VISIBLE_DEVICES', 'NVIDIA_DRIVER_CAPABILITIES', 'NVIDIA_REQUIRE_CUDA',
  'ROCR_VISIBLE_DEVICES', 'HIP_VISIBLE_DEVICES', 'GPU_DEVICE_ORDINAL', 'HSA_OVERRIDE_GFX_VERSION', 'ROCM_PATH', 'ROCM_HOME', 'HIP_PATH',
  // Threading of numeric libraries.
  'VECLIB_MAXIMUM_THREADS', 'BLIS_NUM_THREADS', 'GOTO_NUM_THREADS', 'NUMEXPR_NUM_THREADS', 'NUMEXPR_MAX_THREADS',
  // Machine-learning caches and switches (paths and flags; the tokens of these tools are
  // secret-looking names and stay out).
  'HF_HOME', 'HF_HUB_CACHE', 'HF_DATASETS_CACHE', 'HF_HUB_OFFLINE', 'HF_DATASETS_OFFLINE', 'HF_HUB_DISABLE_TELEMETRY',
  'TRANSFORMERS_CACHE', 'TRANSFORMERS_OFFLINE', 'TOKENIZERS_PARALLELISM', 'TORCH_HOME', 'TORCH_CUDA_ARCH_LIST',
  'TF_CPP_MIN_LOG_LEVEL', 'TF_FORCE_GPU_ALLOW_GROWTH', 'WANDB_MODE', 'WANDB_DISABLED',
  // Interpreters and toolchains: where their files are. VIRTUAL_ENV is decided by the project's .venv.
  'NODE_PATH', 'NODE_OPTIONS', 'NODE_ENV', 'NODE_EXTRA_CA_CERTS', 'NVM_DIR', 'NVM_BIN', 'NVM_INC',
  'JAVA_HOME', 'GOPATH', 'GOROOT', 'GOCACHE', 'GOMODCACHE', 'CARGO_HOME', 'RUSTUP_HOME', 'RUSTUP_TOOLCHAIN',
  'CC', 'CXX', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'PKG_CONFIG_PATH',
  'LD_LIBRARY_PATH', 'LIBRARY_PATH', 'CPATH', 'C_INCLUDE_PATH', 'CPLUS_INCLUDE_PATH', 'DYLD_LIBRARY_PATH',
  'MANPATH', 'MODULEPATH', 'MODULESHOME', 'LOADEDMODULES',
  // Certificate bundles (paths to public certificates) and proxies (filtered below when the URL
  // holds a password): an experiment behind a corporate proxy needs both to fetch a data set.
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE',
  'HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'ALL_PROXY', 'NO_PROXY',
  'http_proxy', 'https_proxy', 'ftp_proxy', 'all_proxy', 'no_proxy',
  // Windows: what its programs cannot start without.
  'SYSTEMROOT', 'WINDIR', 'COMSPEC', 'PATHEXT', 'USERPROFILE', 'USERNAME', 'HOMEDRIVE', 'HOMEPATH', 'APPDATA',
  'LOCALAPPDATA', 'PROGRAMDATA', 'PROGRAMFILES', 'NUMBER_OF_PROCESSORS', 'PROCESSOR_ARCHITECTURE', 'OS',
]);

/**
 * Families of harmless variables, by prefix. A secret-looking name inside a family still stays
 * out (SLURM_*, CONDA_* and the like hold no credentials today; a future one might).
 */
const harmlessPrefixes = [
  'LC_', // locale categories
  'XDG_', // the user's standard folders and runtime folder
  'CUDA_', // CUDA_VISIBLE_DEVICES, CUDA_HOME, CUDA_LAUNCH_BLOCKING, ...
  'OMP_', 'MKL_', 'OPENBLAS_', 'KMP_', // threading of OpenMP and the BLAS libraries
  'PYTHON', // PYTHONPATH, PYTHONHASHSEED, PYTHONUNBUFFERED, ... (PYTHONHOME is dropped with a .venv)
  'CONDA_', // the active conda environment
  'PYTORCH_', 'TORCHINDUCTOR_', 'JAX_', 'XLA_', // framework switches (allocator, compiler, platform)
  'SLURM_', // the job's allocation: node list, task ids, GPUs
];

// Names that say they carry a credential: kept out even inside a harmless family.
const secretPattern = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|PASS|CREDENTIALS?|AUTH|DSN|WEBHOOK|PAT|COOKIE)(_|$)/i;

/** True when an environment variable's name says it carries a credential. */
export function isSecretName(name: string): boolean {
  return secretPattern.test(name);
}

/**
 * True when a value holds a URL with credentials in it: a user (and usually a password) before
 * the host, `scheme://user:password@host`. A loop, not a regular expression: linear in the value.
 */
export function hasCredentialUrl(value: string): boolean {
  for (let at = value.indexOf('://'); at !== -1; at = value.indexOf('://', at + 3)) {
    for (let i = at + 3; i < value.length; i += 1) {
      const c = value[i];
      if (c === '@') return true;
      if (c === '/' || c === '?' || c === '#' || c === undefined || /\s/.test(c)) break;
    }
  }
  return false;
}

// Windows environments are case-insensitive; elsewhere `http_proxy` and `HTTP_PROXY` differ.
function nameKey(name: string): string {
  return process.platform === 'win32' ? name.toUpperCase() : name;
}

const harmlessKeys = new Set([...harmlessNames].map(nameKey));

function isHarmless(name: string, value: string): boolean {
  const key = nameKey(name);
  if (harmlessKeys.has(key)) return !hasCredentialUrl(value);
  if (!harmlessPrefixes.some((prefix) => key.startsWith(nameKey(prefix)))) return false;
  return !isSecretName(name) && !hasCredentialUrl(value);
}

/** `commands.pass_env`: exact names, or `PREFIX*` for every name that starts with PREFIX. */
function compilePassEnv(passEnv: readonly string[]): (name: string) => boolean {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of passEnv) {
    if (entry.endsWith('*')) prefixes.push(nameKey(entry.slice(0, -1)));
    else names.add(nameKey(entry));
  }
  return (name) => {
    const key = nameKey(name);
    return names.has(key) || prefixes.some((prefix) => key.startsWith(prefix));
  };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

// Windows environments are case-insensitive and usually spell it "Path".
function pathKeyOf(env: NodeJS.ProcessEnv): string {
  if (process.platform !== 'win32') return 'PATH';
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'Path';
}

/**
 * The complete environment of an experiment: the harmless part of crucible's own, plus what
 * `passEnv` lists (passed as it is, credentials and all: the user asked for it), with the
 * project's `.venv` activated, plus `extra` (CRUCIBLE_TRIAL and the like).
 */
export function experimentEnv(opts: {
  projectDir: string;
  base: NodeJS.ProcessEnv;
  passEnv: readonly string[];
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  const listed = compilePassEnv(opts.passEnv);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(opts.base)) {
    if (value === undefined) continue;
    if (listed(name) || isHarmless(name, value)) env[name] = value;
  }

  const venv = path.resolve(opts.projectDir, '.venv');
  const venvBin = path.join(venv, process.platform === 'win32' ? 'Scripts' : 'bin');
  if (isDirectory(venvBin)) {
    const pathKey = pathKeyOf(env);
    const current = env[pathKey];
    env[pathKey] = current === undefined || current === '' ? venvBin : `${venvBin}${path.delimiter}${current}`;
    env['VIRTUAL_ENV'] = venv;
    // PYTHONHOME would point the venv's interpreter at another installation's standard library.
    delete env['PYTHONHOME'];
  } else {
    // A venv active in the shell that started crucible belongs to crucible's user, not to the project.
    delete env['VIRTUAL_ENV'];
  }

  return { ...env, ...opts.extra };
}
