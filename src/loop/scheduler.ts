import type { InFlightTrial } from '../agents/types.js';
import { appendEvent } from '../store/ledger-events.js';
import type { ExperimentResult } from '../runner/run-experiment.js';
import { inFlightViews } from '../prompt/agent-views.js';
import { rebaseChange } from '../workspace/rebase-change.js';
import { applyToProject, unmeasured } from './apply-to-project.js';
import { returnProject } from './apply-plan.js';
import { nextConfirmRun, settleConfirmRun, type Confirming } from './confirm.js';
import { measure, measureRuns, runsOf, settleExperiment, type CommittedTrial, type Measurements, type Settled } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import { inProject, type ExperimentSlot } from './experiment-slot.js';
import { finishTrial } from './finish-trial.js';
import { beginProposal, FatalAgentError, runAgentTurn, settleProposal, type AgentLane, type AgentTurn, type StartedProposal } from './proposal.js';
import type { RunContext, RunState } from './run-context.js';
import { measuresOnIncumbent } from './strategy.js';
import type { TrialsInFlight } from './trials-in-flight.js';
import { checkBudget, checkStop, countTrial, initialCounters, type Budget, type SessionCounters, type StopReason } from './stop-rules.js';

export interface SchedulerOptions {
  /** Trials in flight at most (proposals and experiments): parallel.agents, or a limit that follows the agent's and the experiments' pace. */
  agents: TrialsInFlight;
  /** Room for experiments: the project folder alone, or one worktree per worker. */
  slots: readonly ExperimentSlot[];
  /** The number the first new trial gets. */
  nextTrial: number;
  /** Committed changes of an earlier run that were never measured to the end: measured first. */
  requeued?: readonly CommittedTrial[];
  maxRetries: number;
  maxIterations: number | null;
  budget: Budget;
  /** What the run's earlier trials cost (all sessions). */
  spentUsd: number;
  /** Ctrl+C once: no new proposals; what is in flight finishes and is recorded. */
  stopSignal: AbortSignal;
  /** Ctrl+C twice: everything in flight stops now and is recorded as stopped. */
  abortSignal: AbortSignal;
  /** The lane with this index: an agent worktree at the incumbent (opened when first needed). */
  openLane(index: number): Promise<AgentLane>;
}

export interface SchedulerResult {
  reason: StopReason;
  counters: SessionCounters;
}

/** What a task running beside the scheduler hands back when it is done. */
type Done =
  | { kind: 'turn'; p: StartedProposal; turn: AgentTurn; startedAt: number }
  | { kind: 'measured'; t: CommittedTrial; slot: ExperimentSlot; m: Measurements; changedInSlot: string[] }
  | { kind: 'confirm-run'; c: Confirming; slot: ExperimentSlot; role: 'incumbent' | 'candidate'; experiment: ExperimentResult; changedInSlot: string[] }
  | { kind: 'failed'; error: unknown };

/**
 * The loop as a small scheduler (see design/parallel-trials.md): up to `agents` trials in flight,
 * each proposal in its own agent worktree, experiments in `slots`. Everything that decides or
 * moves anything runs here, one event at a time, in the order things finish; only the agents'
 * turns and the experiments themselves run side by side. With one agent and one slot it is the
 * serial loop: propose, measure, decide, again.
 */
export async function runTrials(ctx: RunContext, state: RunState, options: SchedulerOptions): Promise<SchedulerResult> {
  const lanes: AgentLane[] = [];
  const freeLanes: AgentLane[] = [];
  const freeSlots = [...options.slots];
  const proposing = new Map<number, StartedProposal>();
  const queue: CommittedTrial[] = [...(options.requeued ?? [])];
  const running = new Map<number, CommittedTrial>();
  /** Trials whose experiment has reached its eval command (see prepareIdleLane). */
  const measuring = new Set<number>();
  const tasks = new Set<Promise<void>>();
  const done: Done[] = [];
  // Set when a task is done or Ctrl+C is pressed, so that the scheduler never sleeps past either.
  let poked = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    poked = true;
    wake?.();
  };
  options.stopSignal.addEventListener('abort', poke, { once: true });
  options.abortSignal.addEventListener('abort', poke, { once: true });
  // Ends what is in flight when the scheduler itself fails: nothing may outlive it unrecorded but
  // what the next run's recovery reconciles from the ledger.
  const failure = new AbortController();
  const hard = AbortSignal.any([options.abortSignal, failure.signal]);
  const sessionStart = ctx.now();
  let nextTrial = options.nextTrial;
  let proposalsStarted = 0;
  let spentUsd = options.spentUsd;
  let counters = initialCounters;
  let stopping: StopReason | null = null;
  const stop = (reason: StopReason): void => {
    stopping ??= reason;
  };

  const spawn = (work: Promise<Done>): void => {
    const task = work
      .catch((error: unknown): Done => ({ kind: 'failed', error }))
      .then((result) => {
        done.push(result);
        tasks.delete(task);
        poke();
      });
    tasks.add(task);
  };

  const inFlightCount = (): number => proposing.size + queue.length + running.size;
  // What the next proposal is told is being measured (hidden text removed): not to be repeated.
  const inFlightNow = (): InFlightTrial[] =>
    inFlightViews(
      [...queue, ...running.values()].sort((a, b) => a.trial - b.trial).map((t) => ({ trial: t.trial, description: t.description, files: t.files, ...(t.diff ? { diff: t.diff } : {}) })),
      ctx.hiddenText.redact,
    );

  const ended = (summary: TrialSummary, previousBest: number | null): void => {
    ctx.reporter.trialEnd?.(summary, { previousBest, isNewBest: summary.outcome === 'keep' });
    if (summary.outcome === 'stopped') return stop({ kind: 'interrupted' });
    counters = countTrial(counters, summary.outcome);
    spentUsd += summary.costUsd ?? 0;
    const elapsedSeconds = (ctx.now() - sessionStart) / 1000;
    const reason = checkBudget(options.budget, { totalCostUsd: spentUsd, lastTrialCostUsd: summary.costUsd, elapsedSeconds }) ?? checkStop(counters, { maxRetries: options.maxRetries, maxIterations: null });
    if (reason) stop(reason);
  };

  /** Why no new proposal may start (budgets count what is in flight: they are checked before each). */
  const refuseProposal = (): StopReason | null => {
    if (options.stopSignal.aborted || hard.aborted) return { kind: 'interrupted' };
    const before = checkBudget(options.budget, { totalCostUsd: spentUsd, lastTrialCostUsd: null, elapsedSeconds: (ctx.now() - sessionStart) / 1000 });
    if (before) return before;
    const exhausted = ctx.strategy.stopReason({ incumbent: state.incumbent, trials: state.history });
    if (exhausted !== null) return { kind: 'strategy', message: exhausted };
    if (options.maxIterations !== null && proposalsStarted >= options.maxIterations) return { kind: 'max-iterations', trials: proposalsStarted };
    return null;
  };

  const takeLane = async (): Promise<AgentLane> => {
    const free = freeLanes.pop();
    if (free) return free;
    const lane = await options.openLane(lanes.length);
    lanes.push(lane);
    return lane;
  };

  const startProposal = async (): Promise<void> => {
    const lane = await takeLane();
    const trial = nextTrial++;
    proposalsStarted++;
    const inFlight = inFlightNow();
    const parents = [...proposing.values()].map((q) => q.parent).concat([...queue, ...running.values()].map((t) => t.base));
    const startedAt = ctx.now();
    const p = await beginProposal(ctx, state, lane, trial, inFlight, parents);
    proposing.set(trial, p);
    spawn(runAgentTurn(ctx, p, hard, inFlight).then((turn): Done => ({ kind: 'turn', p, turn, startedAt })));
  };

  /**
   * Once an experiment's eval command runs, an idle lane's worktree goes to the incumbent: under
   * greedy the next proposal starts there after every trial not kept, and its move is then done
   * while the eval runs instead of before the agent's turn (decisions 72). Not earlier: between
   * the run command and the eval crucible itself starts the next command. Only from a commit the
   * lane is known to be clean at, and only while another proposal may still start.
   */
  const prepareIdleLane = async (): Promise<boolean> => {
    if (measuring.size === 0 || stopping !== null || !measuresOnIncumbent(ctx.strategy) || refuseProposal() !== null) return false;
    const lane = freeLanes.find((free) => free.at !== null && free.at !== state.incumbent);
    // Where git must move it, a kept trial would pay for the move ahead twice over: left for the turn.
    if (lane?.at == null || !(await lane.worktree.movesInProcess())) return false;
    const from = lane.at;
    // Ahead of time, it must never be what fails the run (a disk the experiment filled): left in
    // doubt, the lane is reset in full before its next turn, which reports whatever is wrong.
    lane.at = null;
    try {
      await lane.worktree.reset(state.incumbent, from);
      lane.at = state.incumbent;
    } catch {
      // see above
    }
    return true;
  };

  /** A trial that never reached an experiment (stale, or stopped while queued). */
  const endWithoutExperiment = (t: CommittedTrial, outcome: 'stale' | 'stopped', detail: string): void => {
    const previousBest = state.best;
    ended(finishTrial(ctx, state, unmeasured(ctx, state, t, outcome, detail)), previousBest);
  };

  const startExperiment = async (queued: CommittedTrial, slot: ExperimentSlot): Promise<boolean> => {
    let t = queued;
    // Rule 1 of the keep rule: a change is measured on top of the incumbent of the moment.
    if (measuresOnIncumbent(ctx.strategy) && t.base !== state.incumbent) {
      const sha = await rebaseChange(ctx.git, t.sha, state.incumbent);
      if (sha === null) {
        endWithoutExperiment(t, 'stale', `its change no longer applies: the incumbent moved (to ${state.incumbent.slice(0, 7)}) while it was proposed, and changed the same lines`);
        return false;
      }
      appendEvent(ctx.ledger, { type: 'rebase', n: t.trial, onto: state.incumbent, sha });
      t = { ...t, sha, base: state.incumbent, baseMetric: state.best };
    }
    if (inProject(slot)) {
      await applyToProject(ctx, state, t, t.sha);
      state.projectBusy = true;
    }
    const measured = t;
    inSlot(t, slot, t.sha, async () => {
      const onMeasuring = (): void => {
        measuring.add(measured.trial);
        poke();
      };
      const m = await measureRuns(ctx, slot, measured.trial, measured.sha, hard, runsOf(ctx, measured), { onMeasuring });
      return (changedInSlot) => ({ kind: 'measured', t: measured, slot, m, changedInSlot });
    });
    return true;
  };

  /**
   * Runs `work` on `sha` in `slot` beside the scheduler. A slot's own git work (its checkout
   * before, its protected-file check after) touches that slot alone: it runs in the task, not in
   * the scheduler's one-at-a-time path.
   */
  const inSlot = (t: CommittedTrial, slot: ExperimentSlot, sha: string, work: () => Promise<(changedInSlot: string[]) => Done>): void => {
    running.set(t.trial, t);
    ctx.reporter.experimentStart?.(t.trial, { commit: sha, slot: slot.index });
    const folder = slot.folder;
    const startedAt = ctx.now();
    spawn(
      (async (): Promise<Done> => {
        await folder?.checkout(sha);
        const done = await work();
        const changed = folder ? await folder.changedProtected(ctx.policy, [...ctx.volatile]) : [];
        options.agents.experimentRun(ctx.now() - startedAt);
        return done(changed);
      })(),
    );
  };

  /** The next run of a candidate being confirmed, in the slot it holds: it or its base, in turn. */
  const startConfirmRun = async (c: Confirming, slot: ExperimentSlot): Promise<void> => {
    const next = nextConfirmRun(c);
    if (inProject(slot)) await applyToProject(ctx, state, c.t, next.sha);
    inSlot(c.t, slot, next.sha, async () => {
      const experiment = await measure(ctx, slot, c.t.trial, next.sha, hard, next.role === 'incumbent' ? { role: 'incumbent' } : {});
      return (changedInSlot) => ({ kind: 'confirm-run', c, slot, role: next.role, experiment, changedInSlot });
    });
  };

  /** A measurement settled: the trial ends (its slot freed), or its confirmation goes on in the same slot. */
  const afterSettled = async (t: CommittedTrial, slot: ExperimentSlot, settled: Settled, previousBest: number | null): Promise<void> => {
    if (settled.kind === 'confirm') return startConfirmRun(settled.confirming, slot);
    const summary = settled.summary;
    if (inProject(slot)) state.projectBusy = false;
    freeSlots.push(slot);
    ended(summary, previousBest);
    // Rule 2: better than its base but measured on an outdated one: measured again on the
    // incumbent, as a new trial that names the first. Never kept on the first measurement.
    if (summary.outcome === 'stale' && summary.metric !== null && !hard.aborted && !stopsExperiments(stopping)) {
      const again = nextTrial++;
      appendEvent(ctx.ledger, { type: 'trial.start', n: again, parent: t.parent, remeasureOf: t.trial });
      appendEvent(ctx.ledger, { type: 'commit', n: again, sha: t.sha, parent: t.parent, base: t.base });
      ctx.reporter.trialStart?.(again);
      queue.unshift({ ...t, trial: again, remeasureOf: t.trial, agentMs: 0, usage: null, startedAt: ctx.now() });
    }
  };

  const handle = async (event: Done): Promise<void> => {
    switch (event.kind) {
      case 'failed':
        throw event.error;
      case 'turn': {
        const { p, turn } = event;
        proposing.delete(p.trial);
        options.agents.agentTurn(ctx.now() - event.startedAt);
        const previousBest = state.best;
        try {
          const settled = await settleProposal(ctx, state, p, turn, hard);
          if (settled.kind === 'ended') ended(settled.summary, previousBest);
          else queue.push(settled.trial);
        } catch (error) {
          if (!(error instanceof FatalAgentError)) throw error;
          ctx.reporter.trialEnd?.(error.summary, { previousBest, isNewBest: false });
          stop({ kind: 'agent-fatal', message: error.agentError.message });
        } finally {
          freeLanes.push(p.lane);
        }
        return;
      }
      case 'measured': {
        const { t, slot, m, changedInSlot } = event;
        running.delete(t.trial);
        measuring.delete(t.trial);
        const previousBest = state.best;
        return afterSettled(t, slot, await settleExperiment(ctx, state, t, slot, m, changedInSlot), previousBest);
      }
      case 'confirm-run': {
        const { c, slot, role, experiment, changedInSlot } = event;
        running.delete(c.t.trial);
        const previousBest = state.best;
        return afterSettled(c.t, slot, await settleConfirmRun(ctx, state, c, slot, role, experiment, changedInSlot), previousBest);
      }
    }
  };

  try {
    for (;;) {
      if (options.stopSignal.aborted || hard.aborted) stop({ kind: 'interrupted' });
      if (hard.aborted) {
        // Committed but never measured: nothing of theirs reached the project.
        for (const t of queue.splice(0)) endWithoutExperiment(t, 'stopped', 'stopped by the user before its experiment started');
      }
      // A free slot first: a queued change's experiment must not wait for the next proposal's set-up.
      while (!hard.aborted && freeSlots.length > 0 && queue.length > 0) {
        const slot = freeSlots.shift()!;
        if (!(await startExperiment(queue.shift()!, slot))) freeSlots.unshift(slot);
      }
      while (stopping === null && inFlightCount() < options.agents.limit()) {
        const refused = refuseProposal();
        if (refused) {
          stop(refused);
          break;
        }
        await startProposal();
      }
      const event = done.shift();
      if (event) {
        await handle(event);
        continue;
      }
      if (state.pendingReturn) {
        // A trial not kept is still in the project folder. An agent that answers in this process
        // (the tuner) is done after one turn of the event loop, and its change's move takes the
        // way back with it; otherwise crucible would only wait, and goes back now (decisions 71).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (done.length === 0) await returnProject(ctx, state);
        continue;
      }
      if (await prepareIdleLane()) continue;
      if (tasks.size === 0 && queue.length === 0) break;
      if (!poked) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
      poked = false;
    }
  } catch (error) {
    failure.abort();
    await Promise.allSettled([...tasks]);
    throw error;
  } finally {
    options.stopSignal.removeEventListener('abort', poke);
    options.abortSignal.removeEventListener('abort', poke);
  }
  return { reason: stopping ?? { kind: 'interrupted' }, counters };
}

/** A stop that allows no new experiment: Ctrl+C, or a spent budget (the rest only stop new proposals). */
function stopsExperiments(reason: StopReason | null): boolean {
  return reason !== null && (reason.kind === 'interrupted' || reason.kind === 'budget');
}
