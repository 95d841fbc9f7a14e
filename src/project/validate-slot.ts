import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { CrucibleError } from '../errors.js';
import { experimentEnv } from '../runner/environment.js';
import { chooseExecutor } from '../runner/choose-executor.js';
import { runExperiment, type ExperimentResult } from '../runner/run-experiment.js';
import { slotEnvironments } from '../runner/slot-resources.js';
import type { SandboxDecision } from '../sandbox/decide.js';
import { sandboxedExecutor, slotSandbox } from '../sandbox/run-sandbox.js';
import { acquireRunLock } from '../store/run-lock.js';
import { createGit } from '../workspace/git.js';
import { openSlots, type SlotWorktree } from '../workspace/slot-worktree.js';
import type { Check } from './validate-project.js';

// Caches a run makes on its own: never the reason an experiment fails in a fresh slot.
const CACHES = new Set(['__pycache__', '.pytest_cache', '.mypy_cache', '.ruff_cache', '.DS_Store']);
const NAMED = 5;

export interface SlotCheckInput {
  dir: string;
  config: Config;
  workers: number;
  env: NodeJS.ProcessEnv;
  sandbox: SandboxDecision | null;
  /** The instructions file, when it is in the project (read-only in the slot too). */
  instructions: string | null;
  /** How the experiment went in the project folder. */
  inProject: ExperimentResult;
}

/**
 * `validate --workers N` (N > 1): the experiment once in a fresh slot at HEAD, as a trial of a
 * parallel run would see it (files.shared linked, CRUCIBLE_SLOT and the GPUs of slot 1, the
 * slot's sandbox). When it fails there but works in the project folder, what the slot lacks is
 * named: untracked files of the project that are not in files.shared.
 */
export async function checkSlot(input: SlotCheckInput, add: (check: Check) => void): Promise<void> {
  const { dir, config, env } = input;
  let slotEnv: Record<string, string>;
  try {
    const resources = await slotEnvironments(config.parallel, input.workers, env);
    for (const notice of resources.notices) add({ name: 'Slots', status: 'warn', message: notice });
    slotEnv = resources.envs[0]!;
  } catch (error) {
    if (!(error instanceof CrucibleError)) throw error;
    add({ name: 'Slots', status: 'fail', message: error.message });
    return;
  }
  if (!worked(input.inProject)) {
    add({ name: 'Slot', status: 'warn', message: 'not tried: the experiment fails in the project folder already' });
    return;
  }
  // Slots are the run's: a run going on in this folder would lose its own to this check.
  let lock;
  try {
    lock = await acquireRunLock(path.join(dir, '.crucible', 'runs'), {
      label: 'a crucible run in this folder',
      advice: 'the slot check runs once it has stopped (its slots would be in the way)',
    });
  } catch (error) {
    if (!(error instanceof CrucibleError)) throw error;
    add({ name: 'Slot', status: 'fail', message: error.message });
    return;
  }
  let slot: SlotWorktree | undefined;
  try {
    [slot] = await openSlots({ projectDir: dir, count: 1, commit: 'HEAD', shared: config.files.shared, env });
    const result = await runInSlot(input, slot!, slotEnv);
    const shown = path.relative(dir, slot!.dir) || '.';
    if (worked(result)) {
      add({ name: 'Slot', status: 'pass', message: `in slot 1 (${shown}): ${config.metric.name}: ${result.metric.ok ? result.metric.value : ''}` });
    } else {
      add({ name: 'Slot', status: 'fail', message: await explainFailure(input, slot!, result) });
    }
  } catch (error) {
    if (!(error instanceof CrucibleError)) throw error;
    add({ name: 'Slot', status: 'fail', message: `cannot open a slot: ${error.message}` });
  } finally {
    await slot?.remove().catch(() => undefined);
    lock.release();
  }
}

function worked(result: ExperimentResult): boolean {
  return result.metric.ok;
}

function runInSlot(input: SlotCheckInput, slot: SlotWorktree, slotEnv: Record<string, string>): Promise<ExperimentResult> {
  const { config, env } = input;
  const instructions = input.instructions === null ? [] : [path.join(slot.dir, path.relative(input.dir, input.instructions))];
  const wrap = input.sandbox === null ? null : slotSandbox(input.sandbox, config.sandbox, { projectDir: input.dir, slotDir: slot.dir, readonly: instructions, env });
  return runExperiment({
    runCommand: config.commands.run,
    evalCommand: config.commands.eval,
    cwd: slot.dir,
    env: experimentEnv({ projectDir: slot.dir, base: env, passEnv: config.commands.pass_env, extra: slotEnv }),
    timeoutMs: config.constraints.timeout_seconds * 1000,
    metricName: config.metric.name,
    killGraceMs: 2000,
    // In a slot as in a trial: a Slurm job when the executor is slurm (the slot must be visible to the nodes too).
    executor: sandboxedExecutor(chooseExecutor(config, { projectDir: input.dir, tag: 'validate', env }), wrap),
  });
}

/** One line: what the slot lacks that the project folder has, or the failure itself. */
async function explainFailure(input: SlotCheckInput, slot: SlotWorktree, result: ExperimentResult): Promise<string> {
  const git = createGit(input.dir, { env: input.env });
  const absent = await missingFromSlot(input, slot);
  // The ones the failure names (a "No such file" line) are the likely cause; else all of them.
  const named = absent.filter((entry) => mentions(result.crashReport, entry.replace(/\/$/, '')));
  const missing = named.length > 0 ? named : absent;
  const edited = await git.uncommittedTrackedChanges();
  const causes: string[] = [];
  if (missing.length > 0) {
    const one = missing.length === 1;
    causes.push(`${listNames(missing)} ${one ? 'is' : 'are'} not in git and not in files.shared (add ${one ? 'it' : 'them'} to files.shared)`);
  }
  if (edited.length > 0) causes.push(`the slot holds the last commit, without your uncommitted changes to ${listNames(edited)}`);
  const why = result.crashReport.split('\n').map((line) => line.trim()).find((line) => line !== '') ?? 'no metric';
  if (causes.length === 0) return `in a slot the experiment failed although it works in the project folder: ${why}`;
  return `in a slot the experiment failed: ${causes.join('; ')}`;
}

/** Untracked files and folders of the project (ignored ones included) absent from the slot, not shared, not crucible's. */
async function missingFromSlot(input: SlotCheckInput, slot: SlotWorktree): Promise<string[]> {
  const git = createGit(input.dir, { env: input.env });
  const { stdout } = await git.run(['ls-files', '-z', '--others', '--directory', '--no-empty-directory', '--', '.']);
  const shared = input.config.files.shared.map((entry) => entry.replace(/^\.\//, '').replace(/\/$/, ''));
  const missing: string[] = [];
  for (const entry of stdout.split('\0').filter(Boolean)) {
    const rel = entry.replace(/\/$/, '');
    if (rel === '.crucible' || rel.startsWith('.crucible/') || rel === 'results.tsv') continue;
    if (rel.split('/').some((part) => CACHES.has(part)) || rel.endsWith('.pyc')) continue;
    if (shared.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
    if (await lstat(path.join(slot.dir, rel)).catch(() => null)) continue;
    missing.push(entry);
  }
  return missing;
}

/** Whether `text` names the path `rel` as a whole (not "metadata" for "data"). */
function mentions(text: string, rel: string): boolean {
  const escaped = rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w.-])${escaped}($|[^\\w.-])`, 'm').test(text);
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, NAMED);
  const rest = names.length - shown.length;
  if (rest > 0) return `${shown.join(', ')} and ${rest} more`;
  return shown.length === 1 ? shown[0]! : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}`;
}
