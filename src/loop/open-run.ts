import { mkdirSync, realpathSync, existsSync, rmdirSync, statSync } from 'node:fs';
import { appendEvent } from '../store/ledger-events.js';
import path from 'node:path';
import { createAgentBackend } from '../agents/registry.js';
import type { AgentBackend } from '../agents/types.js';
import { displayPath, loadConfig } from '../config/load.js';
import type { AgentType, Config } from '../config/schema.js';
import { ConfigError, CrucibleError, GitError, ProjectError } from '../errors.js';
import { ensureGitignored } from '../project/gitignore.js';
import { experimentEnv } from '../runner/environment.js';
import { runCommand } from '../runner/execute.js';
import { slotEnvironments } from '../runner/slot-resources.js';
import { decideSandbox, type SandboxDecision } from '../sandbox/decide.js';
import { detectSandbox } from '../sandbox/detect.js';
import { agentSandbox } from '../sandbox/run-sandbox.js';
import { openLedger, type Ledger } from '../store/ledger.js';
import { openCheckpointWriter, type CheckpointWriter } from '../store/checkpoint-writer.js';
import { foldOnto } from '../store/run-checkpoint.js';
import { openResultsFile, type ResultsFile } from '../store/results-file.js';
import { acquireRunLock, type RunLock } from '../store/run-lock.js';
import { runPaths, type RunPaths } from '../store/run-paths.js';
import { createAccessPolicy } from '../workspace/access-policy.js';
import { createGit, type Git } from '../workspace/git.js';
import { describeUnmatchedEntries } from '../workspace/unmatched-entries.js';
import { initRepo, probeWorkTree, type RepoLayout, type WorkTreeProbe } from '../workspace/project-git.js';
import type { LoopReporter } from './events.js';
import { runEveryStepSync } from './cleanup-steps.js';
import { findForkPoint } from './fork.js';
import { reconcileResults, rowsFromLedger } from './reconcile-results.js';

/** crucible's own records: never committed, never in the agent's way. */
export const RECORD_PATTERNS = ['results.tsv', '.crucible/runs/', '.crucible/slots/'];
/** Also ignored when crucible creates the repository itself (nothing the user decided yet). */
const NEW_REPO_PATTERNS = [...RECORD_PATTERNS, 'run.log', 'node_modules/', '.venv/', '__pycache__/', '*.pyc'];

export interface OpenRunOptions {
  projectDir: string;
  tag: string;
  /** Overrides agent.type. */
  agentType?: AgentType;
  /** Start a new run from the best commit of this other run. */
  forkFrom?: string | null;
  reporter: LoopReporter;
  env?: NodeJS.ProcessEnv;
  /** `crucible init` prepares a run without an agent. Default true. */
  withAgent?: boolean;
  /** Overrides agent.model. */
  model?: string;
  /** Overrides parallel.workers: how many experiment slots get resources. Default parallel.workers. */
  workers?: number;
  /** How much the ledger grows between two checkpoints (CHECKPOINT_EVERY_BYTES). */
  checkpointEveryBytes?: number;
}

/** A run whose branch is checked out and whose lock, ledger and results file are open. */
export interface OpenRun {
  projectDir: string;
  config: Config;
  tag: string;
  branch: string;
  git: Git;
  /** The commit HEAD is at once the run branch is checked out. */
  head: string;
  /** Where the project's work tree and git folders are. */
  layout: RepoLayout & { gitDir: string };
  paths: RunPaths;
  lock: RunLock;
  ledger: Ledger;
  /** Writes the read commands' checkpoint of the ledger (run-checkpoint.ts). */
  checkpoint: CheckpointWriter;
  results: ResultsFile;
  /** null when opened without an agent (`crucible init`). */
  agent: AgentBackend | null;
  created: boolean;
  forkedFrom: { tag: string; commit: string } | null;
  experimentEnv: NodeJS.ProcessEnv;
  /**
   * Puts back the records (ledger, results.tsv, locks) from what this process holds when anyone
   * else deleted or changed them; returns the project-relative paths it restored.
   */
  restoreRecords(): string[];
  /** Whether experiments and a command agent run under bubblewrap, decided once per run. */
  sandbox: SandboxDecision;
  /** Each slot's own variables (CRUCIBLE_SLOT, CUDA_VISIBLE_DEVICES), and notices about them. */
  slotResources: { envs: Record<string, string>[]; notices: string[] };
  close(): void;
}

/**
 * Everything before the first trial: config, repository (created when missing), the run's lock,
 * branch (created from HEAD or a fork point, or resumed) and records. Throws a CrucibleError,
 * having changed nothing it should not have, when any of it is wrong.
 */
export async function openRun(options: OpenRunOptions): Promise<OpenRun> {
  if (!existsSync(options.projectDir) || !statSync(options.projectDir).isDirectory()) {
    throw new ProjectError(`${options.projectDir} is not a folder`);
  }
  const projectDir = realpathSync(options.projectDir);
  const loaded = loadConfig(projectDir);
  for (const warning of loaded.warnings) options.reporter.warning?.(warning);
  if (!loaded.ok) throw new ConfigError(loaded.errors);
  for (const problem of describeUnmatchedEntries(projectDir, loaded.config.files, displayPath(loaded.file))) options.reporter.warning?.(problem);
  const config = options.model ? { ...loaded.config, agent: { ...loaded.config.agent, model: options.model } } : loaded.config;
  const paths = runPaths(projectDir, options.tag);
  const branch = `${config.git.branch_prefix}/${options.tag}`;
  const env = options.env ?? process.env;
  // Before any side effect: `sandbox: true` on a machine without bubblewrap stops the run here.
  const sandbox = decideSandbox(config.sandbox, () => detectSandbox(env));
  if (!sandbox.on && sandbox.warning) options.reporter.warning?.(sandbox.warning);
  // Before any side effect: too few GPUs for the slots stops the run here.
  const slotResources = await slotEnvironments(config.parallel, options.workers ?? config.parallel.workers, env);
  const agentType = options.agentType ?? config.agent.type;
  // Where the folder is in git (in one process, changing nothing): the sandbox's hidden folders
  // need it before the agent is made, and the rest of the run after.
  let probe = await probeWorkTree(projectDir, { env });
  const hide = sandbox.on && agentType === 'command' ? repositoryFolders(projectDir, probe) : [];
  const agentOptions = { env, agentConfig: config.agent, sandbox: agentSandbox(sandbox, config.sandbox, { projectDir, hide, env }) };
  // Before any side effect: an agent that cannot exist stops the run here.
  const agent = options.withAgent === false ? null : createAgentBackend(agentType, agentOptions);
  // Credentials and endpoint are checked before anything is created: a wrong key stops here.
  await agent?.preflight?.(AbortSignal.timeout(60_000));

  if (!probe.inside) {
    await ensureGitignored(projectDir, NEW_REPO_PATTERNS);
    await initRepo(projectDir, { env });
    probe = await probeWorkTree(projectDir, { env });
    options.reporter.notice?.('No git repository here: created one, with all current files in an initial commit.');
  }
  const git = createGit(projectDir, { env, prefix: probe.prefix });
  if (probe.head === null || probe.layout === null) {
    throw new ProjectError('the repository has no commit yet', { hints: ['Commit your files first (git add -A && git commit -m initial).'] });
  }
  await refuseUntrackedProject(git, projectDir);

  // Checked again under the lock; this early check leaves no run folder behind when it refuses
  // (where the run's folder is there already, there is none to leave: a resumed run skips it).
  if (!existsSync(paths.runDir) && !(await git.branchExists(branch))) await refuseDirtyEditable(git, config);
  // The first folder this call creates (undefined when the run's folder was there): removed again
  // when the run is refused below (a bad --fork), so a refusal leaves no empty run behind.
  const createdFolder = mkdirSync(paths.runDir, { recursive: true });
  // Every run of a folder shares its checkout and its files: runs in one folder take turns.
  const folderLock = await acquireRunLock(path.dirname(paths.runDir), {
    label: 'another crucible run in this folder',
    advice: 'runs in one folder take turns (they share its files); wait for it, or run the other tag in a separate clone',
  });
  let lock: RunLock;
  try {
    lock = await acquireRunLock(paths.runDir);
  } catch (error) {
    folderLock.release();
    throw error;
  }
  let ledger: Ledger | undefined;
  let checkpoint: CheckpointWriter | undefined;
  let results: ResultsFile | undefined;
  // Each step runs whatever the others do: a lock left behind would refuse the next run. The
  // checkpoint comes first: it covers the session's last events, under the lock.
  const close = (): void => runEveryStepSync([() => checkpoint?.write(), () => ledger?.close(), () => results?.close(), () => lock.release(), () => folderLock.release()]);
  try {
    // Whether the branch exists, its commit, and whether HEAD is on it, in one process.
    const existing = await git.branchState(branch);
    const exists = existing !== null;
    let forkedFrom: OpenRun['forkedFrom'] = null;
    const xenv = experimentEnv({ projectDir, base: env, passEnv: config.commands.pass_env });
    let head: string;
    if (existing?.current === true) {
      head = existing.sha;
    } else if (existing !== null) {
      await switchToRunBranch(git, branch);
      head = await git.headSha();
    } else {
      await refuseDirtyEditable(git, config);
      let start = 'HEAD';
      if (options.forkFrom) {
        forkedFrom = await findForkPoint(projectDir, options.forkFrom, config.metric.direction, git);
        start = forkedFrom.commit;
      }
      if (config.commands.setup) await runSetup(config.commands.setup, projectDir, xenv, options.reporter);
      await git.createBranch(branch, start);
      // Just made: HEAD cannot be on it yet.
      await switchToRunBranch(git, branch);
      const ignored = await ensureGitignored(projectDir, RECORD_PATTERNS);
      if (ignored.changed) await git.commitFiles(['.gitignore'], 'crucible: ignore run records (results.tsv, .crucible/runs/)');
      head = await git.headSha();
    }
    ledger = openLedger(paths.ledger);
    // What the open read, folded once: the checkpoint writer goes on from it (decisions 62), and
    // results.tsv is checked against its rows unless the run's creation is recorded since.
    const read = ledger.eventCount();
    const atOpen = foldOnto(options.tag, null, ledger.events())!;
    checkpoint = openCheckpointWriter(paths.checkpoint, options.tag, ledger, {
      folded: atOpen.prefix,
      ...(options.checkpointEveryBytes !== undefined ? { everyBytes: options.checkpointEveryBytes } : {}),
    });
    results = openResultsFile(projectDir);
    if (!exists) appendEvent(ledger, { type: 'run.create', tag: options.tag, branch, from: head, forkedFrom });
    const expected = ledger.eventCount() === read ? atOpen.record.rows : rowsFromLedger(options.tag, ledger.events());
    const rebuilt = await reconcileResults(results, projectDir, options.tag, expected);
    if (rebuilt.length > 0) options.reporter.notice?.(`results.tsv did not match the ledger of ${rebuilt.map((t) => `run ${t}`).join(', ')}: rebuilt those rows from the ledger`);
    for (const problem of [...ledger.problems, ...results.problems]) options.reporter.warning?.(problem);
    if (ledger.repaired !== null) options.reporter.notice?.('repaired the ledger: removed a line cut short by a crash');
    if (results.repaired !== null) options.reporter.notice?.('repaired results.tsv: removed a line cut short by a crash');
    return {
      projectDir,
      config,
      tag: options.tag,
      branch,
      git,
      head,
      layout: probe.layout,
      paths,
      lock,
      ledger,
      checkpoint,
      results,
      agent,
      created: !exists,
      forkedFrom,
      experimentEnv: xenv,
      restoreRecords: () => {
        const restored: string[] = [];
        if (ledger?.restoreIfChanged()) restored.push(path.relative(projectDir, paths.ledger));
        if (checkpoint?.restoreIfChanged()) restored.push(path.relative(projectDir, paths.checkpoint));
        if (results?.restoreIfChanged()) restored.push(path.relative(projectDir, results.path));
        if (lock.restoreIfMissing()) restored.push(path.relative(projectDir, lock.file));
        if (folderLock.restoreIfMissing()) restored.push(path.relative(projectDir, folderLock.file));
        return restored;
      },
      sandbox,
      slotResources,
      close,
    };
  } catch (error) {
    try {
      close();
    } catch {
      // The error that refused the run is the one to report; close() still ran every step.
    }
    if (createdFolder !== undefined) removeEmptyFolders(paths.runDir, createdFolder);
    throw error;
  }
}

/** Removes `deepest` and its parents up to `top` while they are empty; anything in them stays. */
function removeEmptyFolders(deepest: string, top: string): void {
  for (let dir = deepest; dir.startsWith(top); dir = path.dirname(dir)) {
    try {
      rmdirSync(dir);
    } catch {
      return;
    }
  }
}

/**
 * What a sandboxed command agent must not see: the repository's top folder (hidden files, `.git`,
 * `.crucible/`) and, when the project is a linked worktree, the git folder it shares and the
 * main checkout beside it. A folder that is no repository yet becomes one's top.
 */
function repositoryFolders(projectDir: string, probe: WorkTreeProbe): string[] {
  const layout = probe.layout;
  if (layout === null) return [projectDir];
  const mainCheckout = path.basename(layout.commonDir) === '.git' ? [path.dirname(layout.commonDir)] : [];
  return [...new Set([layout.top, layout.commonDir, ...mainCheckout])];
}

/**
 * Editable files with uncommitted changes would be overwritten by trials: the user decides first.
 * `ours` are changes crucible itself left behind (see filesBeingApplied).
 */
export async function refuseDirtyEditable(git: Git, config: Config, ours: readonly string[] = []): Promise<void> {
  const dirty = await git.uncommittedTrackedChanges();
  const policy = createAccessPolicy(config.files);
  const editable = dirty.filter((file) => policy.classify(file) === 'editable' && !ours.includes(file));
  if (editable.length > 0) {
    throw new ProjectError(`uncommitted changes to editable files: ${editable.join(', ')}`, {
      hints: ['crucible never discards your changes. Put them aside with `git stash` (or commit them on another branch), then run again.'],
    });
  }
}

/**
 * A project folder that its enclosing repository does not track (a new project under an existing
 * checkout): a run there would switch the enclosing repository's branch and measure commits that
 * do not hold the project.
 */
async function refuseUntrackedProject(git: Git, projectDir: string): Promise<void> {
  const prefix = await git.showPrefix();
  if (prefix === '') return;
  if ((await git.run(['ls-tree', '--name-only', 'HEAD', '--', '.'])).stdout.trim() !== '') return;
  const top = (await git.run(['rev-parse', '--show-toplevel'])).stdout.trim();
  throw new ProjectError(`${projectDir} is inside the git repository ${top}, whose commits do not hold this folder`, {
    hints: ['Commit the folder in that repository (git add . && git commit, from the folder), or make it a repository of its own (git init in the folder), then run again.'],
  });
}

/** Switches to the run branch, which HEAD is known not to be on. */
async function switchToRunBranch(git: Git, branch: string): Promise<void> {
  try {
    await git.checkoutBranch(branch);
  } catch (error) {
    // A stale index.lock is not an uncommitted change: its own hint says what to do.
    if (!(error instanceof GitError) || error.lockFile !== null) throw error;
    throw new ProjectError(`cannot switch to branch ${branch}: ${error.stderr.trim().split('\n')[0] ?? 'git checkout failed'}`, {
      hints: ['Commit or stash your uncommitted changes, then run again.'],
    });
  }
}

async function runSetup(command: string, cwd: string, env: NodeJS.ProcessEnv, reporter: LoopReporter): Promise<void> {
  reporter.notice?.(`Running setup: ${command}`);
  const result = await runCommand({ command, cwd, env, timeoutMs: 60 * 60 * 1000 });
  if (result.exitCode !== 0) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new CrucibleError('CRUCIBLE_FAILURE', `setup command failed (${result.shortMessage}): ${command}`, { hints: tail ? [tail] : [] });
  }
}
