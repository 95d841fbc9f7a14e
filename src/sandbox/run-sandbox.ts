import type { Executor } from '../runner/types.js';
import type { SandboxWrap } from '../runner/spawn-args.js';
import { bwrapArgs } from './bwrap-args.js';
import type { SandboxDecision, SandboxSettings } from './decide.js';
import { agentView, experimentView, protectedProjectPaths } from './view.js';

/** How a run sandboxes its experiments: null when the sandbox is off. */
export function experimentSandbox(
  decision: SandboxDecision,
  settings: SandboxSettings,
  paths: { projectDir: string; readonly: readonly string[]; env: NodeJS.ProcessEnv },
): SandboxWrap | null {
  if (!decision.on) return null;
  const view = experimentView({ projectDir: paths.projectDir, readonly: paths.readonly, writable: settings.writable, network: settings.network, env: paths.env });
  return { bwrap: decision.bwrap, args: bwrapArgs(view) };
}

/**
 * How a run sandboxes an experiment in a slot (null when the sandbox is off): it writes only its
 * slot (never the slot's `.crucible/` nor `readonly`) and `sandbox.writable` (relative entries
 * are the project's); the project, the other slots and what the shared links point to are
 * read-only, unless `sandbox.writable` lists them.
 */
export function slotSandbox(
  decision: SandboxDecision,
  settings: SandboxSettings,
  paths: { projectDir: string; slotDir: string; readonly?: readonly string[]; env: NodeJS.ProcessEnv },
): SandboxWrap | null {
  if (!decision.on) return null;
  const view = experimentView({
    projectDir: paths.slotDir,
    slotOf: paths.projectDir,
    readonly: protectedProjectPaths(paths.slotDir, paths.readonly),
    writable: settings.writable,
    network: settings.network,
    env: paths.env,
  });
  return { bwrap: decision.bwrap, args: bwrapArgs(view) };
}

/** What a command agent's sandbox needs besides the paths of each proposal. */
export interface AgentSandbox {
  bwrap: string;
  network: boolean;
  /** sandbox.agent_writable as written; relative entries are relative to `base` (the project). */
  writable: readonly string[];
  base: string;
  /** Folders the agent must not see: the project's repository. */
  hide: readonly string[];
  env: NodeJS.ProcessEnv;
}

export function agentSandbox(
  decision: SandboxDecision,
  settings: SandboxSettings,
  paths: { projectDir: string; hide: readonly string[]; env: NodeJS.ProcessEnv },
): AgentSandbox | null {
  if (!decision.on) return null;
  return { bwrap: decision.bwrap, network: settings.agent_network, writable: settings.agent_writable, base: paths.projectDir, hide: paths.hide, env: paths.env };
}

/**
 * One proposal's sandbox. The workspace and the agent's git folder are inputs, not computed here:
 * where they live is the workspace's business.
 */
export function wrapAgentCommand(sandbox: AgentSandbox, paths: { workspace: string; gitDir: string; readable: readonly string[] }): SandboxWrap {
  const view = agentView({ ...paths, hide: sandbox.hide, writable: sandbox.writable, base: sandbox.base, network: sandbox.network, env: sandbox.env });
  return { bwrap: sandbox.bwrap, args: bwrapArgs(view) };
}

/** Runs every command of `executor` inside `wrap`; `executor` itself when there is no sandbox. */
export function sandboxedExecutor(executor: Executor, wrap: SandboxWrap | null | undefined): Executor {
  if (!wrap) return executor;
  // Every way the executor runs an experiment goes through the sandbox: a batch job too.
  return {
    run: (spec, signal) => executor.run({ ...spec, sandbox: wrap }, signal),
    cancel: (handle) => executor.cancel(handle),
    ...(executor.runExperiment
      ? { runExperiment: (spec, signal) => executor.runExperiment!({ ...spec, sandbox: wrap }, signal) }
      : executor.runSandboxedExperiment
        ? { runExperiment: (spec, signal) => executor.runSandboxedExperiment!({ ...spec, sandbox: wrap }, signal) }
        : {}),
    ...(executor.adopt ? { adopt: (handle, spec, signal) => executor.adopt!(handle, { ...spec, sandbox: wrap }, signal) } : {}),
    ...(executor.orphanHandle ? { orphanHandle: (trial) => executor.orphanHandle!(trial) } : {}),
  };}
