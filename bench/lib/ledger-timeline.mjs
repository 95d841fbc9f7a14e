import { readFileSync } from 'node:fs';
import { mean, median, round } from './stats.mjs';

/**
 * The parallel bench's figures, read from a run's ledger (timestamps in ms): what a user could
 * compute from their own run. A trial's experiment starts at its first `run.start` (the run
 * command; the eval command writes a second one) and ends at `run.done`, which crucible writes
 * after its post-experiment checks. The window of a run is from the first non-baseline
 * `trial.start` to the last `trial.end`: the baseline is measured alone, before any proposal.
 * The bench's agent and experiment also print when their processes start and end (see
 * parallel-project.mjs): `marks` tells their own time from crucible's around them.
 */

export function readLedger(file) {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
    .map((event) => ({ ...event, t: Date.parse(event.ts) }));
}

/** The epoch-ms marks the bench's experiment printed into a trial's run.log. */
export function readRunMarks(text) {
  const marks = {};
  for (const [, name, ms] of text.matchAll(/^bench-(run-start|run-end|eval-end) (\d{13})$/gm)) marks[name] = Number(ms);
  return { expStart: marks['run-start'], expEnd: marks['run-end'], evalEnd: marks['eval-end'] };
}

/** One record per trial: the times of its steps and how it ended; `runMarks(n)` reads its run.log marks. */
export function foldTrials(events, runMarks = () => ({})) {
  const trials = new Map();
  const of = (n) => {
    if (!trials.has(n)) trials.set(n, { n, baseline: false, rebases: 0, conflict: false });
    return trials.get(n);
  };
  for (const e of events) {
    if (typeof e.n !== 'number') continue;
    const t = of(e.n);
    switch (e.type) {
      case 'trial.start':
        t.start = e.t;
        t.baseline = e.baseline === true;
        if (e.remeasureOf !== undefined) t.remeasureOf = e.remeasureOf;
        break;
      case 'agent.done': {
        t.agentDone = e.t;
        t.agentMs = e.ms;
        const marks = /\[agent (\d{13})-(\d{13})\]/.exec(e.description ?? '');
        if (marks) [t.agentStart, t.agentEnd] = [Number(marks[1]), Number(marks[2])];
        break;
      }
      case 'commit':
        t.commit = e.t;
        break;
      case 'rebase':
        t.rebases++;
        if (e.sha === null) t.conflict = true;
        break;
      case 'run.start':
        if (t.runStart === undefined) {
          t.runStart = e.t;
          t.slot = e.slot;
        }
        break;
      case 'run.done':
        t.runDone = e.t;
        t.runMs = e.ms;
        break;
      case 'trial.end':
        t.end = e.t;
        t.outcome = e.summary.outcome;
        break;
    }
  }
  for (const t of trials.values()) if (t.runStart !== undefined) Object.assign(t, runMarks(t.n));
  return [...trials.values()].sort((a, b) => a.n - b.n);
}

const measured = (trials) => trials.filter((t) => !t.baseline && t.runStart !== undefined && t.runDone !== undefined);

export function windowOf(trials) {
  const work = trials.filter((t) => !t.baseline);
  const from = Math.min(...work.map((t) => t.start));
  const to = Math.max(...work.map((t) => t.end));
  return { from, to, ms: to - from };
}

/**
 * Slot busy fraction: Σ (run.done − run.start) over the window's experiments / (slots × window).
 * Also with only the experiment's own processes (its run command's start to its eval's end), with
 * only its sleep (the work a GPU would do), and in steady state: over each slot's own span, its
 * first run.start to its last run.done (no ramp-up or ramp-down).
 */
export function busyFraction(trials, slots) {
  const { ms } = windowOf(trials);
  const runs = measured(trials);
  const share = (f) => round(runs.reduce((sum, t) => sum + f(t), 0) / (slots * ms), 3);
  let span = 0;
  for (const list of bySlot(runs).values()) span += Math.max(...list.map((t) => t.runDone)) - list[0].runStart;
  return {
    slot: share((t) => t.runDone - t.runStart),
    processes: share((t) => t.evalEnd - t.expStart),
    sleep: share((t) => t.expEnd - t.expStart),
    steady: round(runs.reduce((sum, t) => sum + (t.runDone - t.runStart), 0) / span, 3),
  };
}

/**
 * Trials per hour. `window`: measured trials over the whole window (ramp-up and ramp-down
 * included). `steady`: each slot's rate between its first and its last experiment start
 * ((experiments − 1) / that time), summed over the slots: the rate once every slot is going.
 */
export function trialsPerHour(trials) {
  const runs = measured(trials);
  const { ms } = windowOf(trials);
  let steady = 0;
  for (const list of bySlot(runs).values()) {
    if (list.length < 2) continue;
    steady += (list.length - 1) / (list.at(-1).runStart - list[0].runStart);
  }
  return { window: round((runs.length / ms) * 3_600_000, 1), steady: round(steady * 3_600_000, 1) };
}

/**
 * Where a trial's time goes outside the agent's and the experiment's processes, in ms (means):
 * - slot_gap: a slot's run.done to its next run.start (its idle gap), split into settle (run.done
 *   → trial.end of the trial that ended: decide, keep or reset, record), wait (the slot free, no
 *   proposal ready) and dispatch (both ready → run.start: rebase, checkout or apply, start);
 * - prepare: trial.start → the agent's script runs (lane reset, prompt, spawn);
 * - handoff: the agent's script ended → agent.done (its exit, then waiting for the scheduler);
 * - commit: agent.done → commit (guard, commit);
 * - spawn: run.start → the experiment's script runs;
 * - eval: the run command ended → the eval command ended (the user's eval, spawn included);
 * - checks: the eval ended → run.done (waiting for the scheduler, then records, branch and
 *   protected-file checks).
 * crucible_per_trial = prepare + handoff + commit + dispatch + spawn + checks + settle.
 * The scheduler handles one event at a time: with many trials in flight, handoff and checks grow
 * by the time an event waits for it.
 */
export function overheadOf(trials) {
  const runs = measured(trials);
  const gaps = [];
  for (const list of bySlot(runs).values()) {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const next = list[i];
      const ready = Math.max(prev.end, readyAt(next));
      gaps.push({ gap: next.runStart - prev.runDone, wait: Math.max(0, ready - prev.end) });
    }
  }
  const proposals = runs.filter((t) => t.agentDone !== undefined);
  const figures = {
    slot_gap: meanOf(gaps, (g) => g.gap),
    settle: meanOf(runs, (t) => t.end - t.runDone),
    wait: meanOf(gaps, (g) => g.wait),
    dispatch: meanOf(runs, (t) => {
      const prev = previousOnSlot(runs, t);
      return t.runStart - Math.max(readyAt(t), prev ? prev.end : -Infinity);
    }),
    prepare: meanOf(proposals, (t) => t.agentStart - t.start),
    handoff: meanOf(proposals, (t) => t.agentDone - t.agentEnd),
    commit: meanOf(proposals, (t) => t.commit - t.agentDone),
    spawn: meanOf(runs, (t) => t.expStart - t.runStart),
    eval: meanOf(runs, (t) => t.evalEnd - t.expEnd),
    checks: meanOf(runs, (t) => t.runDone - t.evalEnd),
  };
  const f = figures;
  figures.crucible_per_trial = f.prepare + f.handoff + f.commit + f.dispatch + f.spawn + f.checks + f.settle;
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, round(v, 1)]));
}

/**
 * The share of the window in which the scheduler was certainly busy with one trial or another:
 * settling a proposal (agent.done → commit), starting an experiment (ready → run.start) or settling
 * one (run.done → trial.end). It handles one event at a time, so these never overlap in truth;
 * the checks before run.done are left out (their start is unknown): a lower bound. Near 1, the
 * scheduler is what trials wait for.
 */
export function schedulerBusy(trials) {
  const runs = measured(trials);
  const { from, to } = windowOf(trials);
  const intervals = [];
  for (const t of trials.filter((x) => !x.baseline)) {
    if (t.agentDone !== undefined && t.commit !== undefined) intervals.push([t.agentDone, t.commit]);
    if (t.runDone !== undefined && t.end !== undefined) intervals.push([t.runDone, t.end]);
  }
  for (const t of runs) {
    const prev = previousOnSlot(runs, t);
    intervals.push([Math.max(readyAt(t), prev ? prev.end : -Infinity), t.runStart]);
  }
  let covered = 0;
  let reach = -Infinity;
  for (const [a, b] of intervals.map(([a, b]) => [Math.max(a, from), Math.min(b, to)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0])) {
    if (b <= reach) continue;
    covered += b - Math.max(a, reach);
    reach = b;
  }
  return round(covered / (to - from), 3);
}

/** When a trial's change was ready for a slot: its commit (a re-measure's is written when it is queued). */
const readyAt = (t) => t.commit ?? t.start;

/** The mean of f over the items where f is a number (a mark a run did not print is left out). */
function meanOf(items, f) {
  return mean(items.map(f).filter((v) => Number.isFinite(v)));
}

/** Outcomes, and how the keep rule touched the trials: rebased, stale by conflict, measured again. */
export function keepRuleCounts(trials) {
  const work = trials.filter((t) => !t.baseline);
  const outcomes = {};
  for (const t of work) outcomes[t.outcome ?? 'unfinished'] = (outcomes[t.outcome ?? 'unfinished'] ?? 0) + 1;
  return {
    trials: work.length,
    measured: measured(trials).length,
    outcomes,
    rebased: work.filter((t) => t.rebases > 0 && !t.conflict).length,
    stale_conflict: work.filter((t) => t.conflict).length,
    stale_outdated_base: work.filter((t) => t.outcome === 'stale' && !t.conflict).length,
    remeasured: work.filter((t) => t.remeasureOf !== undefined).length,
  };
}

function bySlot(runs) {
  const slots = new Map();
  for (const t of [...runs].sort((a, b) => a.runStart - b.runStart)) {
    if (!slots.has(t.slot)) slots.set(t.slot, []);
    slots.get(t.slot).push(t);
  }
  return slots;
}

function previousOnSlot(runs, t) {
  let best = null;
  for (const other of runs) {
    if (other.slot === t.slot && other.runStart < t.runStart && (best === null || other.runStart > best.runStart)) best = other;
  }
  return best;
}

/**
 * The median time (ms) from each step of a trial to its next step, by pair of event types ("commit
 * → apply"), over the trials that are not the baseline: which step got slower between two builds.
 * Pairs seen in fewer than a tenth of the trials are left out.
 */
export function stepMedians(events) {
  const byTrial = new Map();
  for (const e of events) {
    if (typeof e.n !== 'number') continue;
    if (!byTrial.has(e.n)) byTrial.set(e.n, []);
    byTrial.get(e.n).push(e);
  }
  const steps = new Map();
  let trials = 0;
  for (const list of byTrial.values()) {
    if (list.some((e) => e.type === 'trial.start' && e.baseline === true)) continue;
    trials++;
    for (let i = 1; i < list.length; i++) {
      const pair = `${list[i - 1].type} → ${list[i].type}`;
      if (!steps.has(pair)) steps.set(pair, []);
      steps.get(pair).push(list[i].t - list[i - 1].t);
    }
  }
  return Object.fromEntries([...steps].filter(([, ms]) => ms.length >= trials / 10).map(([pair, ms]) => [pair, { n: ms.length, median: round(median(ms), 1) }]));
}
