import type { Direction } from '../config/constants.js';
import { appendEvent } from '../store/ledger-events.js';
import { findBestKept } from '../core/objective.js';
import type { AgentType } from '../config/schema.js';
import { chooseExecutor } from '../runner/choose-executor.js';
import { experimentSandbox } from '../sandbox/run-sandbox.js';
import { protectedProjectPaths } from '../sandbox/view.js';
import type { Executor } from '../runner/types.js';
import { createAccessPolicy } from '../workspace/access-policy.js';
import { openAgentWorktree } from '../workspace/agent-worktree.js';
import { stagedPaths } from '../workspace/run-branch.js';
import { createHiddenTextRedactor, describeCoverage } from '../workspace/hidden-text.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { slotSandbox } from '../sandbox/run-sandbox.js';
import { openSlots, removeStaleSlots, type SlotWorktree } from '../workspace/slot-worktree.js';
import { measureBaseline } from './baseline.js';
import type { ExperimentSlot } from './experiment-slot.js';
import { foldRun } from '../store/fold-run.js';
import { expectedHeadAtResume } from './expected-head.js';
import { createStrategy, measuresOnIncumbent } from './strategy.js';
import { guardRunBranch } from './guard-run-branch.js';
import { RunBranchWatch } from '../workspace/run-branch-watch.js';
import type { LoopReporter, TrialSummary } from './events.js';
import { runEveryStep } from './cleanup-steps.js';
import { openRun, refuseDirtyEditable } from './open-run.js';
import { evaluationInputs, findProjectFile, readInstructions, readSystemPrompt } from './project-files.js';
import { watchProtectedFiles } from './protected-files.js';
import { filesBeingApplied, filesHolding, recoverUnfinishedTrials } from './recover.js';
import { returnLeftTrial, trialLeftInProject } from './return-left-trial.js';
import { returnProject } from './apply-plan.js';
import { adaptiveTrialsInFlight, fixedTrialsInFlight } from './trials-in-flight.js';
import type { RunContext, RunState } from './run-context.js';
import type { AgentLane } from './proposal.js';
import { runTrials } from './scheduler.js';
import { useSpawnHost } from '../runner/spawn-host.js';
import { initialCounters, type StopReason } from './stop-rules.js';

export interface StartRunOptions {
  projectDir: string;
  tag: string;
  agentType?: AgentType;
  /** Overrides agent.timeout_seconds. */
  agentTimeoutSeconds?: number;
  /** Overrides agent.model. */
  model?: string;
  /** Overrides constraints.max_iterations. */
  maxIterations?: number;
  forkFrom?: string | null;
  reporter?: LoopReporter;
  /** Ctrl+C once: finish the current trial, then stop. */
  stopSignal?: AbortSignal;
  /** Ctrl+C twice: stop the agent and the experiment now; the trial is reverted and recorded as stopped. */
  abortSignal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  executor?: Executor;
  /** Between SIGTERM and SIGKILL at an experiment's timeout. */
  killGraceMs?: number;
  /** Overrides parallel.workers (`run --workers`). */
  workers?: number;
  now?: () => number;
  /** How much the ledger grows between two checkpoints for the read commands (CHECKPOINT_EVERY_BYTES). */
  checkpointEveryBytes?: number;
}

export interface RunReport {
  tag: string;
  branch: string;
  reason: StopReason;
  /** Trials run by this session, the baseline excluded. */
  trials: number;
  baseline: number | null;
  best: number | null;
  history: TrialSummary[];
}

/**
 * `crucible run`: opens (or creates) the run, reconciles an interrupted trial, measures the
 * baseline when there is none, then runs trials until a stop rule, Ctrl+C or a fatal agent error.
 */
export async function startRun(options: StartRunOptions): Promise<RunReport> {
  const reporter = options.reporter ?? {};
  const stopSignal = options.stopSignal ?? new AbortController().signal;
  const abortSignal = options.abortSignal ?? new AbortController().signal;
  // Commands are started from a small process of their own (decisions 63). It starts before the
  // run opens, so that the git processes that open it take it too once it is ready (decisions 68);
  // until the session's own cleanup takes it over, a failure to open lets it go.
  const releaseSpawnHost = useSpawnHost();
  const orRelease = <T>(opening: Promise<T>): Promise<T> =>
    opening.catch((error: unknown) => {
      releaseSpawnHost();
      throw error;
    });
  const run = await orRelease(openRun({
    projectDir: options.projectDir,
    tag: options.tag,
    ...(options.agentType ? { agentType: options.agentType } : {}),
    ...(options.model ? { model: options.model } : {}),
    forkFrom: options.forkFrom ?? null,
    reporter,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.checkpointEveryBytes !== undefined ? { checkpointEveryBytes: options.checkpointEveryBytes } : {}),
  }));
  const { config, git, ledger } = run;
  const agent = run.agent;
  if (!agent) throw new Error('openRun returned no agent');
  const policy = createAccessPolicy(config.files);
  const lanes: AgentLane[] = [];
  const slots: ExperimentSlot[] = [];
  const slotFolders: SlotWorktree[] = [];
  let reason: StopReason = { kind: 'interrupted' };
  let counters = initialCounters;
  const head = run.head;
  // The ledger is folded once: recovery adds records but starts no trial, so the view's next
  // trial number and volatile files stay right after it.
  const view = foldRun(ledger.events(), { direction: config.metric.direction });
  const state: RunState = { history: [...view.history], best: null, incumbent: view.incumbent?.commit || head, head, staged: await orRelease(stagedPaths(git, head)), projectBusy: false };
  const previousTrials = state.history.length;
  let failed = false;
  try {
    const instructions = readInstructions(run.projectDir, config);
    if (instructions.warning) reporter.warning?.(instructions.warning);
    const systemPrompt = readSystemPrompt(run.projectDir, config);
    if (systemPrompt.warning) reporter.warning?.(systemPrompt.warning);
    const hiddenText = createHiddenTextRedactor(run.projectDir, policy);
    const coverage = describeCoverage(hiddenText.coverage);
    if (coverage) reporter.notice?.(coverage);
    const workers = options.workers ?? config.parallel.workers;
    const resources = run.slotResources;
    for (const notice of resources.notices) reporter.notice?.(notice);
    const openLane = async (index: number): Promise<AgentLane> => {
      const worktree = await openAgentWorktree({ projectDir: run.projectDir, tag: run.tag, commit: state.incumbent, policy, lane: index, layout: run.layout, ...(options.env ? { env: options.env } : {}) });
      const lane: AgentLane = { worktree, at: state.incumbent };
      lanes.push(lane);
      return lane;
    };
    // The first lane is opened before anything else: a project whose worktree cannot be made stops here.
    const firstLane = await openLane(0);
    const sandbox = experimentSandbox(run.sandbox, config.sandbox, {
      projectDir: run.projectDir,
      // The agent's instructions may lie at the project root: an experiment must not rewrite them.
      readonly: protectedProjectPaths(run.projectDir, [config.agent.instructions, config.agent.system_prompt].flatMap((name) => (name === null ? [] : (findProjectFile(run.projectDir, name) ?? [])))),
      env: options.env ?? process.env,
    });
    const ctx: RunContext = {
      projectDir: run.projectDir,
      config,
      tag: run.tag,
      branch: run.branch,
      git,
      policy,
      agent,
      results: run.results,
      ledger,
      paths: run.paths,
      executor: options.executor ?? chooseExecutor(config, { projectDir: run.projectDir, tag: run.tag, env: options.env ?? process.env }),
      reporter,
      instructions: instructions.text,
      systemPrompt: systemPrompt.text,
      experimentEnv: run.experimentEnv,
      hiddenText,
      projectSlot: { index: 0, dir: run.projectDir, env: { ...resources.envs[0], CRUCIBLE_SLOT: '0' }, sandbox, folder: null },
      volatile: new Set(view.volatile),
      protectedFiles: await watchProtectedFiles(run.projectDir, policy, git, { volatile: view.volatile, inputs: evaluationInputs(run.projectDir, config) }),
      agentTimeoutMs: (options.agentTimeoutSeconds ?? config.agent.timeout_seconds) * 1000,
      killGraceMs: options.killGraceMs ?? 5000,
      now: options.now ?? Date.now,
      restoreRecords: () => run.restoreRecords(),
      checkpoint: run.checkpoint,
      strategy: createStrategy(config.search, config.metric.direction),
      branchWatch: await RunBranchWatch.open(git, run.branch, options.env ?? process.env, run.layout),
    };
    state.best = bestOf(state.history, config.metric.direction);

    // Before the recovery measures or reverts a commit: a change the user made to an editable file
    // since the crash would be measured as the trial's, or would block its revert.
    const left = trialLeftInProject(view, state.head, measuresOnIncumbent(ctx.strategy));
    // A way back killed halfway left some of its files as where it was going: crucible's too.
    const ours = [...new Set([...(await filesBeingApplied(git, view.inFlight, left?.files ?? [])), ...(left ? await filesHolding(git, left.to, left.files) : [])])];
    await refuseDirtyEditable(git, config, ours);
    if (left !== null) reporter.notice?.(`Recovered: ${await returnLeftTrial(ctx, state, left, ours)}.`);
    // A resumed run goes on from where the ledger says it stopped, never from a commit nobody
    // measured (the user's, or an experiment's that committed).
    const expectedHead = expectedHeadAtResume(view, measuresOnIncumbent(ctx.strategy));
    if (expectedHead !== null && expectedHead !== state.head) {
      await guardRunBranch(ctx, { head: expectedHead, staged: state.staged }, 'since this run last stopped');
    }
    const recovered = await recoverUnfinishedTrials(ctx, state, view.inFlight, abortSignal);
    // A trial the recovery measured and did not keep goes back before the incumbent is read.
    await returnProject(ctx, state);
    for (const line of recovered.lines) reporter.notice?.(`Recovered: ${line}.`);
    // After the recovery the run branch is at the incumbent: nothing unmeasured is built upon.
    // With nothing to recover, HEAD, the staged paths and the editable files are what was just
    // read and checked above (four git processes fewer before the first trial).
    if (view.inFlight.length > 0) {
      state.head = await git.headSha();
      state.staged = await stagedPaths(git, state.head);
      await refuseDirtyEditable(git, config);
    }
    state.incumbent = state.head;
    // With one worker experiments run in the project folder; with more, each in a slot of its own
    // (a killed run's slots are removed either way: they are disposable).
    if (workers > 1) {
      const folders = await openSlots({ projectDir: run.projectDir, count: workers, commit: state.incumbent, shared: config.files.shared, ...(options.env ? { env: options.env } : {}) });
      slotFolders.push(...folders);
      for (const folder of folders) {
        const slotSandboxWrap = slotSandbox(run.sandbox, config.sandbox, { projectDir: run.projectDir, slotDir: folder.dir, env: options.env ?? process.env });
        slots.push({ index: folder.index, dir: folder.dir, env: resources.envs[folder.index - 1] ?? {}, sandbox: slotSandboxWrap, folder });
      }
    } else {
      if (existsSync(path.join(run.projectDir, '.crucible', 'slots'))) await removeStaleSlots(run.projectDir, options.env);
      slots.push(ctx.projectSlot);
    }
    let nextTrial = view.nextTrial;

    reporter.runStart?.({
      tag: run.tag,
      branch: run.branch,
      resumed: !run.created,
      previousTrials,
      forkedFrom: run.forkedFrom,
      agent: agent.name,
      worktree: firstLane.worktree.root,
      baseline: state.history.find((t) => t.outcome === 'baseline' && t.metric !== null)?.metric ?? null,
    });
    appendEvent(ledger, { type: 'session.start', pid: process.pid, agent: agent.name, head: state.head });

    if (!state.history.some((t) => t.outcome === 'baseline' && t.metric !== null)) {
      const description = run.forkedFrom ? `baseline: forked from ${run.forkedFrom.tag} (${run.forkedFrom.commit.slice(0, 7)})` : 'baseline: the unmodified code';
      const baseline = await measureBaseline(ctx, state, nextTrial++, abortSignal, description, slots[0]);
      reporter.trialEnd?.(baseline, { previousBest: null, isNewBest: baseline.outcome === 'baseline' });
      if (baseline.outcome === 'stopped') return finish({ kind: 'interrupted' });
      if (baseline.outcome !== 'baseline') return finish({ kind: 'baseline-failed', report: baseline.detail ?? 'no metric' });
    }

    const budget = {
      maxCostUsd: config.constraints.max_cost_usd,
      maxCostPerTrialUsd: config.constraints.max_cost_per_trial_usd,
      maxWallTime: config.constraints.max_wall_time,
    };
    // An agent that takes time prepares the next change while experiments run, more of them when
    // its turns are long against the experiments (docs/decisions.md 31); the tuner answers at once,
    // so a proposal made early would only see less of the history.
    const agents = config.parallel.agents !== null ? fixedTrialsInFlight(config.parallel.agents) : agent.name === 'tuner' ? fixedTrialsInFlight(workers) : adaptiveTrialsInFlight(workers);
    const result = await runTrials(ctx, state, {
      agents,
      slots,
      nextTrial,
      requeued: recovered.requeued,
      maxRetries: config.constraints.max_retries,
      maxIterations: options.maxIterations ?? config.constraints.max_iterations,
      budget,
      spentUsd: state.history.reduce((sum, t) => sum + (t.costUsd ?? 0), 0),
      stopSignal,
      abortSignal,
      openLane: async (index) => (index === 0 ? firstLane : openLane(index)),
    });
    counters = result.counters;
    return finish(result.reason);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Every step runs whatever the others do (on a full disk the ledger line fails, the locks must
    // still go); the error that stopped the run, if any, is the one reported.
    const cleanupErrors = await runEveryStep([
      () => appendEvent(ledger, { type: 'session.end', reason: reason.kind, trials: counters.trials }),
      ...lanes.map((lane) => () => lane.worktree.remove().catch(() => undefined)),
      ...slotFolders.map((folder) => () => folder.remove().catch(() => undefined)),
      () => git.run(['gc', '--auto', '--quiet'], { allowFail: true }),
      () => run.close(),
      releaseSpawnHost,
    ]);
    // eslint-disable-next-line no-unsafe-finally -- a cleanup failure after a clean stop is the run's error
    if (!failed && cleanupErrors.length > 0) throw cleanupErrors[0];
  }

  function finish(stop: StopReason): RunReport {
    reason = stop;
    const baseline = state.history.find((t) => t.outcome === 'baseline' && t.metric !== null)?.metric ?? null;
    const report: RunReport = { tag: run.tag, branch: run.branch, reason: stop, trials: counters.trials, baseline, best: state.best, history: state.history };
    reporter.runEnd?.({ reason: stop, trials: counters.trials, best: state.best, baseline });
    return report;
  }
}

function bestOf(history: readonly TrialSummary[], direction: Direction): number | null {
  return findBestKept(history, direction, (t) => t.outcome)?.metric ?? null;
}
