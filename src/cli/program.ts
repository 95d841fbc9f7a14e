import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { agentTypes, providers } from '../config/constants.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../project/package-root.js';
import type { Output } from './output.js';

/**
 * The command line: parsing only. Each action lazy-loads its command module so that
 * `crucible status` never pays for what `crucible run` needs.
 */
export interface CliContext {
  output: Output;
  /** Set by main once -v is known. */
  makeOutput(verbose: boolean): Output;
  isInteractive: boolean;
}

// Read as data from the package's folder: this module runs from src/ (tests) and from a chunk of the bundle.
const version = (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('crucible')
    .description('Autonomous experiment loop: an agent proposes one change at a time; only improvements are kept.')
    .version(version, '-V, --version')
    .option('-v, --verbose', 'show debug output')
    .option('-C, --project-dir <dir>', 'project folder (default: the current folder)', existingFolder)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.output.data(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.output.info(s.replace(/\n$/, '')),
    })
    .exitOverride();

  const out = (cmd: Command): Output => ctx.makeOutput(Boolean(cmd.optsWithGlobals()['verbose']));
  const projectDir = (cmd: Command): string => (cmd.optsWithGlobals()['projectDir'] as string | undefined) ?? process.cwd();

  program
    .command('new')
    .description('Create a project from a bundled example, or an empty scaffold')
    .argument('[dest]', 'folder to create (must not exist, or be empty)')
    .option('-e, --example <name>', 'bundled example to copy')
    .option('--list', 'list the bundled examples')
    .action(async (dest: string | undefined, opts: { example?: string; list?: boolean }, cmd: Command) => {
      const { newCommand } = await import('./commands/new.js');
      newCommand({ dest, example: opts.example, list: Boolean(opts.list) }, out(cmd));
    });

  program
    .command('init')
    .description('Create the run branch and records for a tag (run does this by itself when needed)')
    .requiredOption('-t, --tag <tag>', 'run name: the branch is <branch_prefix>/<tag>')
    .action(async (opts: { tag: string }, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      await initCommand({ projectDir: projectDir(cmd), tag: opts.tag }, out(cmd));
    });

  program
    .command('run')
    .description('Run the experiment loop (creates or resumes the run of --tag)')
    .requiredOption('-t, --tag <tag>', 'run name: the branch is <branch_prefix>/<tag>')
    .option('-n, --max-iterations <n>', 'stop after this many trials in this session', positiveInt)
    .addOption(new Option('-a, --agent <name>', 'agent backend, overriding agent.type').choices([...agentTypes]))
    .option('--timeout <seconds>', 'time limit of one agent proposal, overriding agent.timeout_seconds', positiveNumber)
    .option('-m, --model <name>', 'model for the claude-code and api agents, overriding agent.model')
    .option('--no-interactive', 'never ask (skip the fork menu)')
    .option('--fork <tag>', 'start a new run from the best commit of another run, without asking')
    .option('-w, --workers <n>', 'experiments at once, overriding parallel.workers', positiveInt)
    .option('--json', 'every event of the run as one JSON object per line on stdout (docs/events.md)')
    .option('-v, --verbose', 'show debug output')
    .action(async (opts: { tag: string; maxIterations?: number; agent?: (typeof agentTypes)[number]; timeout?: number; model?: string; interactive: boolean; fork?: string; workers?: number; json?: boolean }, cmd: Command) => {
      const { runCommand } = await import('./commands/run.js');
      await runCommand(
        {
          projectDir: projectDir(cmd),
          tag: opts.tag,
          maxIterations: opts.maxIterations,
          agent: opts.agent,
          agentTimeoutSeconds: opts.timeout,
          model: opts.model,
          interactive: opts.interactive && ctx.isInteractive,
          fork: opts.fork,
          workers: opts.workers,
          json: Boolean(opts.json),
        },
        out(cmd),
      );
    });

  program
    .command('status')
    .description('Summary of a run: trials, kept, best metric')
    .option('-t, --tag <tag>', 'run name (default: the run of the current branch, else the most recent)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { tag?: string; json?: boolean }, cmd: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      await statusCommand({ projectDir: projectDir(cmd), tag: opts.tag, json: Boolean(opts.json) }, out(cmd));
    });

  program
    .command('history')
    .description('The last trials of a run')
    .option('-t, --tag <tag>', 'run name (default: the run of the current branch, else the most recent)')
    .option('-l, --last <n>', 'how many trials', positiveInt, 10)
    .option('--json', 'machine-readable output')
    .action(async (opts: { tag?: string; last: number; json?: boolean }, cmd: Command) => {
      const { historyCommand } = await import('./commands/history.js');
      await historyCommand({ projectDir: projectDir(cmd), tag: opts.tag, last: opts.last, json: Boolean(opts.json) }, out(cmd));
    });

  program
    .command('compare')
    .description('Compare two runs side by side')
    .argument('<tagA>')
    .argument('<tagB>')
    .option('--json', 'machine-readable output')
    .option('--html', 'one self-contained HTML file with both runs on one chart (stdout, or --out)')
    .option('-o, --out <file>', 'with --html: write the report to this file')
    .action(async (tagA: string, tagB: string, opts: { json?: boolean; html?: boolean; out?: string }, cmd: Command) => {
      const { compareCommand } = await import('./commands/compare.js');
      await compareCommand({ projectDir: projectDir(cmd), tagA, tagB, json: Boolean(opts.json), html: Boolean(opts.html), ...(opts.out !== undefined ? { out: opts.out } : {}) }, out(cmd));
    });

  program
    .command('postmortem')
    .description('Analyse a run: trend chart, turning points, failure streaks')
    .option('-t, --tag <tag>', 'run name (default: the run of the current branch, else the most recent)')
    .option('--json', 'machine-readable output')
    .option('--html', 'one self-contained HTML file: chart, trial table, each trial\'s diff, prompt and logs (stdout, or --out)')
    .option('-o, --out <file>', 'with --html: write the report to this file')
    .option('--ai', 'ask a model for insights (turning points, failure patterns, next directions)')
    .addOption(new Option('-a, --agent <name>', 'with --ai: the backend that writes them, overriding agent.type').choices(['claude-code', 'api']))
    .option('-m, --model <name>', 'with --ai: the model, overriding agent.model')
    .action(async (opts: { tag?: string; json?: boolean; html?: boolean; out?: string; ai?: boolean; agent?: 'claude-code' | 'api'; model?: string }, cmd: Command) => {
      const { postmortemCommand } = await import('./commands/postmortem.js');
      await postmortemCommand(
        { projectDir: projectDir(cmd), tag: opts.tag, json: Boolean(opts.json), html: Boolean(opts.html), ...(opts.out !== undefined ? { out: opts.out } : {}), ai: Boolean(opts.ai), agent: opts.agent, model: opts.model },
        out(cmd),
      );
    });

  program
    .command('dashboard')
    .description('Serve a live, read-only web view of every run of the project on 127.0.0.1 (until Ctrl+C)')
    .option('-p, --port <port>', 'port to listen on (default: a free one)', port)
    .option('--open', 'open the page in the default browser')
    .action(async (opts: { port?: number; open?: boolean }, cmd: Command) => {
      const { dashboardCommand } = await import('./commands/dashboard.js');
      await dashboardCommand({ projectDir: projectDir(cmd), port: opts.port, open: Boolean(opts.open) }, out(cmd));
    });

  program
    .command('wizard')
    .description('Create a project from a description: a model writes the baseline, a hidden harness and the config')
    .argument('<dest>', 'folder to create (must not exist, or be empty)')
    .option('-d, --describe <text>', 'what to optimise, and how it is measured')
    .option('-y, --yes', 'take the recommended answer to every question')
    .addOption(new Option('-a, --agent <name>', 'backend of the model that writes the project').choices(['claude-code', 'api']))
    .option('-m, --model <name>', 'the model (default: the backend\'s)')
    .addOption(new Option('--provider <name>', 'with --agent api: the API').choices([...providers]))
    .option('--base-url <url>', 'with --agent api: the endpoint, e.g. http://localhost:11434/v1')
    .action(async (dest: string, opts: { describe?: string; yes?: boolean; agent?: 'claude-code' | 'api'; model?: string; provider?: (typeof providers)[number]; baseUrl?: string }, cmd: Command) => {
      const { wizardCommand } = await import('./commands/wizard.js');
      await wizardCommand(
        { dest, describe: opts.describe, yes: Boolean(opts.yes), agent: opts.agent, model: opts.model, provider: opts.provider, baseUrl: opts.baseUrl, interactive: ctx.isInteractive },
        out(cmd),
      );
    });

  program
    .command('validate')
    .description('Check the config, the files, and that the experiment runs and prints its metric')
    .option('--workers <n>', 'above 1: also run the experiment once in an experiment slot (default: parallel.workers)', positiveInt)
    .option('--stability', 'run the experiment several times: mean, sd, CV of the metric and a recommended configuration')
    .option('--runs <n>', 'with --stability: how many runs (default 5, at least 2)', positiveInt)
    .action(async (opts: { workers?: number; stability?: boolean; runs?: number }, cmd: Command) => {
      if (opts.runs !== undefined && !opts.stability) throw new UsageError('--runs needs --stability');
      if (opts.runs !== undefined && opts.runs < 2) throw new UsageError('validate --runs must be 2 or more: one run has no spread');
      const { validateCommand } = await import('./commands/validate.js');
      await validateCommand({ projectDir: projectDir(cmd), workers: opts.workers, stabilityRuns: opts.stability ? (opts.runs ?? 5) : undefined }, out(cmd));
    });

  program
    .command('demo')
    .description('Run a short offline optimisation of the optimize-sorting example in a temporary folder')
    .option('-n, --trials <n>', 'trials to run', positiveInt, 12)
    .option('--dir <dir>', 'where to create the demo project (default: a new temporary folder)')
    .action(async (opts: { trials: number; dir?: string }, cmd: Command) => {
      const { demoCommand } = await import('./commands/demo.js');
      await demoCommand({ trials: opts.trials, dir: opts.dir }, out(cmd));
    });

  return program;
}

function existingFolder(value: string): string {
  let info;
  try {
    info = statSync(value);
  } catch {
    throw new InvalidArgumentError(`no folder ${value}`);
  }
  if (!info.isDirectory()) throw new InvalidArgumentError(`${value} is a file, not a folder`);
  return value;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number from 1 to 65535');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number greater than 0');
  return n;
}
