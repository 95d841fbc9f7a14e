import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SandboxView } from './bwrap-args.js';

/**
 * Where a run's sandboxed commands may write and what they may not see, computed from the
 * paths the run already knows. Every path is absolute and real (bubblewrap binds by path).
 */

// Credentials of other tools: nothing an experiment or an agent needs to read.
const credentialFolders = ['.ssh', '.aws', '.azure', '.config/gcloud', '.kube', '.gnupg', '.config/gh', '.docker', '.password-store', '.local/share/keyrings'];
const credentialFiles = ['.netrc', '.git-credentials', '.npmrc', '.pypirc', '.pgpass', '.my.cnf', '.cache/huggingface/token', '.huggingface/token'];
// Where agent command-line tools keep their logins: hidden from experiments, readable by an agent.
const agentLoginFolders = ['.claude', '.codex', '.gemini', '.config/claude'];
const agentLoginFiles = ['.claude.json'];

/** `~/x` → home, relative → under `base`; the real path when it exists. */
export function resolveConfigPath(entry: string, base: string, home: string): string {
  const expanded = entry === '~' ? home : entry.startsWith('~/') ? path.join(home, entry.slice(2)) : path.resolve(base, entry);
  try {
    return realpathSync(expanded);
  } catch {
    return expanded;
  }
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env['HOME'] || os.homedir();
}

/**
 * The paths that are there, as a `kind`. Looked at each proposal (a credential folder made during a
 * run is hidden from the next agent): most are absent, and an absent one costs no exception
 * (decisions 86).
 */
function existing(paths: readonly string[], kind: 'dir' | 'file'): string[] {
  return paths.filter((p) => {
    try {
      const s = statSync(p, { throwIfNoEntry: false });
      return s !== undefined && (kind === 'dir' ? s.isDirectory() : s.isFile());
    } catch {
      return false; // a file where a folder on the way should be (ENOTDIR), or no access
    }
  });
}

/** GPU device nodes (NVIDIA, DRI, AMD's kfd): an experiment that trains on a GPU needs them. */
export function gpuDevices(devDir = '/dev'): string[] {
  try {
    return readdirSync(devDir)
      .filter((name) => /^(nvidia.*|dri|kfd)$/.test(name))
      .map((name) => path.join(devDir, name))
      .sort();
  } catch {
    return [];
  }
}

/** What name resolution needs from /run: /etc/resolv.conf often points there (systemd-resolved, resolvconf, NetworkManager). */
export function resolverFolders(resolvConf = '/etc/resolv.conf'): string[] {
  const folders = new Set(['/run/systemd/resolve']);
  try {
    const target = realpathSync(resolvConf);
    if (target.startsWith('/run/')) folders.add(path.dirname(target));
  } catch {
    // no resolv.conf: nothing to keep
  }
  return [...folders];
}

export interface ExperimentViewInput {
  /** Real path of the experiment's working folder, writable: the project folder, or a slot. */
  projectDir: string;
  /**
   * For an experiment in a slot: the real path of the project, read-only, where relative
   * `writable` entries start from (they are the project's paths, whichever slot runs).
   */
  slotOf?: string;
  /** Paths inside the project that stay read-only: crucible's records, git's folder, the instructions. */
  readonly: readonly string[];
  /** sandbox.writable as written in the config. */
  writable: readonly string[];
  network: boolean;
  env: NodeJS.ProcessEnv;
}

export function experimentView(input: ExperimentViewInput): SandboxView {
  const home = homeOf(input.env);
  const inHome = (names: readonly string[]): string[] => names.map((name) => path.join(home, name));
  return {
    writable: [input.projectDir],
    optionalWritable: input.writable.map((entry) => resolveConfigPath(entry, input.slotOf ?? input.projectDir, home)),
    readonly: input.readonly,
    readonlyFolders: input.slotOf === undefined ? [] : [input.slotOf],
    hiddenFolders: existing(inHome([...credentialFolders, ...agentLoginFolders]), 'dir'),
    hiddenFiles: existing(inHome([...credentialFiles, ...agentLoginFiles]), 'file'),
    readable: [],
    devices: gpuDevices(),
    keptInRun: resolverFolders(),
    network: input.network,
  };
}

/** The paths of a run that an experiment must not write although they are in its folder. */
export function protectedProjectPaths(projectDir: string, also: readonly string[] = []): string[] {
  const inside = ['.crucible', '.git', 'results.tsv'].map((name) => path.join(projectDir, name));
  return [...new Set([...inside, ...also.filter((p) => p.startsWith(`${projectDir}${path.sep}`))])];
}

export interface AgentViewInput {
  /** The folder the agent edits, writable. */
  workspace: string;
  /** The agent's own git folder (its GIT_DIR's parent or itself), writable. */
  gitDir: string;
  /** Folders the agent must not see: the project's repository (its top folder). */
  hide: readonly string[];
  /** Files it reads although they lie in a hidden folder: its prompt. */
  readable: readonly string[];
  /** sandbox.agent_writable as written in the config; relative entries are relative to `base`. */
  writable: readonly string[];
  base: string;
  network: boolean;
  env: NodeJS.ProcessEnv;
}

export function agentView(input: AgentViewInput): SandboxView {
  const home = homeOf(input.env);
  const inHome = (names: readonly string[]): string[] => names.map((name) => path.join(home, name));
  return {
    writable: [input.workspace, input.gitDir],
    optionalWritable: input.writable.map((entry) => resolveConfigPath(entry, input.base, home)),
    readonly: [],
    hiddenFolders: [...input.hide.filter((p) => existsSync(p)), ...existing(inHome(credentialFolders), 'dir')],
    hiddenFiles: existing(inHome(credentialFiles), 'file'),
    readable: input.readable,
    devices: [],
    keptInRun: resolverFolders(),
    network: input.network,
  };
}
