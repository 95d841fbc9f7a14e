import { existsSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { findProjectFile } from '../loop/project-files.js';
import { experimentEnv } from '../runner/environment.js';
import { chooseExecutor } from '../runner/choose-executor.js';
import { runExperiment } from '../runner/run-experiment.js';
import type { SandboxWrap } from '../runner/spawn-args.js';
import { decideSandbox, SandboxUnavailableError, type SandboxDecision } from '../sandbox/decide.js';
import { describeSandbox } from '../sandbox/describe.js';
import { detectSandbox } from '../sandbox/detect.js';
import { experimentSandbox, sandboxedExecutor } from '../sandbox/run-sandbox.js';
import { protectedProjectPaths } from '../sandbox/view.js';
import { createAccessPolicy } from '../workspace/access-policy.js';
import { findUnmatchedEntries } from '../workspace/unmatched-entries.js';
import { scanWorkspace } from '../agents/tuner/scan.js';
import { checkSlot } from './validate-slot.js';
import { checkSlurm } from './validate-slurm.js';
import { checkStability } from './validate-stability.js';

export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface Check {
  name: string;
  status: CheckStatus;
  message: string;
}

/**
 * `crucible validate`: everything a run needs, checked in order, without touching git or the
 * records. The experiment really runs once (it writes whatever its commands write).
 */
export interface ValidateOptions {
  env?: NodeJS.ProcessEnv;
  onCheck?: (check: Check) => void;
  /** Slots to check for (default parallel.workers): above 1, the experiment also runs once in a slot. */
  workers?: number;
  /** `--stability --runs N`: run the experiment N times and recommend a configuration. Without it, a quick experiment runs 3 times. */
  stabilityRuns?: number;
}

export async function validateProject(projectDir: string, options: ValidateOptions = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (check: Check): void => {
    checks.push(check);
    options.onCheck?.(check);
  };
  const dir = existsSync(projectDir) ? realpathSync(projectDir) : projectDir;
  const loaded = loadConfig(dir);
  if (!loaded.ok) {
    for (const error of loaded.errors) add({ name: 'Config', status: 'fail', message: error });
    return checks;
  }
  const config = loaded.config;
  add({ name: 'Config', status: 'pass', message: `${path.relative(dir, loaded.file)} is valid` });
  for (const warning of loaded.warnings) add({ name: 'Config', status: 'warn', message: warning });

  const instructions = findProjectFile(dir, config.agent.instructions);
  if (instructions && readFileSync(instructions, 'utf8').trim() !== '') {
    add({ name: 'Instructions', status: 'pass', message: `${path.relative(dir, instructions)} exists` });
  } else {
    add({ name: 'Instructions', status: config.agent.type === 'tuner' ? 'warn' : 'fail', message: `${config.agent.instructions} not found (or empty) in .crucible/ or the project root` });
  }

  checkFiles(dir, config, add);
  if (config.agent.type === 'tuner') checkTunerMarkers(dir, config, add);
  const env = options.env ?? process.env;
  // The experiment runs as a trial would: in the sandbox when there is one.
  const { decision, wrap: sandbox } = checkSandbox(dir, config, env, add);

  // With `executor: slurm` the experiment runs as a job, after the cluster and the shared folder are checked.
  const executor = sandboxedExecutor(chooseExecutor(config, { projectDir: dir, tag: 'validate', env }), sandbox);
  if (config.executor.type === 'slurm' && !(await checkSlurm(dir, config, executor, env, add))) return checks;
  const runOnce = () => runExperiment({
    runCommand: config.commands.run,
    evalCommand: config.commands.eval,
    cwd: dir,
    env: experimentEnv({ projectDir: dir, base: env, passEnv: config.commands.pass_env }),
    timeoutMs: config.constraints.timeout_seconds * 1000,
    metricName: config.metric.name,
    killGraceMs: 2000,
    executor,
  });
  const experiment = await runOnce();
  const run = experiment.run;
  if (run.exitCode === 0 && !run.timedOut) {
    add({ name: 'Run command', status: 'pass', message: `ran in ${(run.durationMs / 1000).toFixed(1)}s` });
  } else {
    add({ name: 'Run command', status: 'fail', message: `${run.shortMessage}: ${firstLines(experiment.crashReport)}` });
  }
  if (experiment.metric.ok) {
    add({ name: 'Eval/metric', status: 'pass', message: `${config.metric.name}: ${experiment.metric.value}` });
    await checkStability({ runs: options.stabilityRuns ?? null, first: experiment, repeat: runOnce, config }, add);
  } else if (run.exitCode === 0 && !run.timedOut) {
    add({ name: 'Eval/metric', status: 'fail', message: experiment.metric.reason });
  }
  const workers = options.workers ?? config.parallel.workers;
  if (workers > 1) await checkSlot({ dir, config, workers, env, sandbox: decision, instructions: instructions ?? null, inProject: experiment }, add);
  // The folders of validate's own jobs (their output has been read).
  if (config.executor.type === 'slurm') rmSync(path.join(dir, '.crucible', 'slurm'), { recursive: true, force: true });
  return checks;
}

/** What the sandbox allows, or why there is none; the experiment's sandbox when there is one. */
function checkSandbox(dir: string, config: Config, env: NodeJS.ProcessEnv, add: (check: Check) => void): { decision: SandboxDecision | null; wrap: SandboxWrap | null } {
  let decision: SandboxDecision;
  try {
    decision = decideSandbox(config.sandbox, () => detectSandbox(env));
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    add({ name: 'Sandbox', status: 'fail', message: `${error.message} (a run refuses to start; the experiment below runs unsandboxed)` });
    return { decision: null, wrap: null };
  }
  if (!decision.on) {
    add({ name: 'Sandbox', status: decision.warning ? 'warn' : 'pass', message: decision.warning ?? decision.why });
    return { decision, wrap: null };
  }
  add({ name: 'Sandbox', status: 'pass', message: `${decision.why}: bubblewrap at ${decision.bwrap}` });
  for (const line of describeSandbox(config.sandbox, { projectDir: dir, env, commandAgent: config.agent.type === 'command' })) {
    add({ name: line.label, status: 'pass', message: line.text });
    if (line.missing.length > 0) add({ name: line.label, status: 'warn', message: `missing, so not writable: ${line.missing.join(', ')}` });
  }
  const instructions = findProjectFile(dir, config.agent.instructions);
  return { decision, wrap: experimentSandbox(decision, config.sandbox, { projectDir: dir, readonly: protectedProjectPaths(dir, instructions ? [instructions] : []), env }) };
}

function checkFiles(dir: string, config: Config, add: (check: Check) => void): void {
  let missingAny = false;
  for (const [kind, label] of [['editable', 'Editable files'], ['readonly', 'Readonly files'], ['hidden', 'Hidden files']] as const) {
    // Globs and folders are checked by the tuner scan and the run itself; plain paths must exist.
    const missing = config.files[kind].filter((entry) => !/[*?[]/.test(entry) && !existsSync(path.join(dir, entry)));
    if (missing.length > 0) {
      missingAny = true;
      add({ name: label, status: 'fail', message: `missing: ${missing.join(', ')}` });
    }
  }
  if (!missingAny) add({ name: 'Files', status: 'pass', message: 'all listed files exist' });
  // Patterns cannot be missing, but one that matches nothing is most likely a typo.
  for (const kind of ['editable', 'readonly', 'hidden'] as const) {
    for (const entry of findUnmatchedEntries(dir, config.files[kind].filter((e) => /[*?[]/.test(e)))) {
      add({ name: 'Files', status: 'warn', message: `files.${kind}: "${entry}" matches no file in the project` });
    }
  }
}

function checkTunerMarkers(dir: string, config: Config, add: (check: Check) => void): void {
  try {
    const scan = scanWorkspace(dir, createAccessPolicy(config.files));
    const count = scan.params.length;
    if (scan.problems.length > 0) add({ name: 'Tuner', status: 'fail', message: scan.problems.join('; ') });
    else if (count === 0) add({ name: 'Tuner', status: 'fail', message: 'no @tune markers in the editable files (e.g. "const X = 8; // @tune 2..64 int log")' });
    else add({ name: 'Tuner', status: 'pass', message: `${count} tunable constant${count === 1 ? '' : 's'}: ${scan.params.map((p) => p.name).join(', ')}` });
  } catch (error) {
    add({ name: 'Tuner', status: 'fail', message: error instanceof Error ? error.message : String(error) });
  }
}

function firstLines(text: string): string {
  return text.split('\n').filter((l) => l.trim() !== '').slice(0, 3).join(' | ');
}
