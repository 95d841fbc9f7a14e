import { createHash } from 'node:crypto';

/** A command as the job runs it: a program and its arguments (see spawnArgs). */
export interface Argv {
  file: string;
  args: readonly string[];
}

/** What one job script runs, and where it writes what it saw. */
export interface JobScriptInput {
  /** Printed in the script's first comment line. */
  name: string;
  /** Shell lines run first (module loads, conda activate): the user's, as written. */
  setup: readonly string[];
  cwd: string;
  /** Where the job writes each command's output and exit status (on the shared filesystem). */
  dir: string;
  run: Argv;
  /** null: the run command alone (`Executor.run`). */
  eval: Argv | null;
}

/** A word the shell reads back exactly as it is. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function commandLine(argv: Argv): string {
  return [argv.file, ...argv.args].map(shellQuote).join(' ');
}

/**
 * The batch script of one experiment. Each command's output goes to its own files and its exit
 * status (with the time it ended) to `<cmd>.exit`, written by the script after the command: the only
 * evidence crucible trusts. A job Slurm reports COMPLETED that never ran leaves no `.exit` file.
 * The eval runs only when the run command exits 0, as locally.
 */
export function buildJobScript(input: JobScriptInput): string {
  const o = shellQuote(input.dir);
  const now = `$(date +%s.%N 2>/dev/null || date +%s)`;
  const step = (which: 'run' | 'eval', argv: Argv): string[] => [
    `echo "${now}" > "$o/${which}.started"`,
    `${commandLine(argv)} > "$o/${which}.out" 2> "$o/${which}.err" < /dev/null`,
    `c=$?; echo "$c ${now}" > "$o/${which}.exit"`,
  ];
  return [
    '#!/bin/sh',
    `# crucible experiment job ${input.name}`,
    `o=${o}`,
    ...input.setup,
    `cd ${shellQuote(input.cwd)} || { echo "crucible: the compute node $(hostname) cannot enter ${input.cwd.replace(/[`"$\\]/g, '')}" >&2; exit 97; }`,
    ...step('run', input.run),
    ...(input.eval === null ? [] : ['[ "$c" -eq 0 ] || exit 0', ...step('eval', input.eval)]),
    'exit 0',
    '',
  ].join('\n');
}

/**
 * A job's name: the run and the trial it belongs to, and the project (a short hash of its folder),
 * so that a later `crucible run` finds its jobs by name and never another project's.
 */
export function jobName(tag: string, trial: string, projectDir: string): string {
  const clean = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
  const project = createHash('sha256').update(projectDir).digest('hex').slice(0, 8);
  return `crucible-${clean(tag)}-${clean(trial)}-${project}`;
}

/**
 * `sbatch --time` for an experiment of `timeoutMs`: crucible cancels the job at the timeout itself;
 * Slurm's limit is the backstop when crucible is gone, with a margin (a minute, or a tenth) so that
 * it never fires first. Whole minutes, at least one.
 */
export function timeLimit(timeoutMs: number): string {
  const seconds = timeoutMs / 1000 + Math.max(60, timeoutMs / 10000);
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  const days = Math.floor(minutes / 1440);
  const rest = minutes % 1440;
  const hh = String(Math.floor(rest / 60)).padStart(2, '0');
  const mm = String(rest % 60).padStart(2, '0');
  return days > 0 ? `${days}-${hh}:${mm}:00` : `${hh}:${mm}:00`;
}
