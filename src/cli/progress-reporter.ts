import { isBetter, type Direction } from '../core/objective.js';
import type { LoopReporter } from '../loop/events.js';
import { formatCost, formatDuration, formatMetric } from '../report/format.js';
import type { LiveBlock } from './live-block.js';
import type { Style } from './output.js';

/** Where a trial in flight is, as the terminal shows it. */
type Phase = 'agent' | 'queued' | 'running' | 'measuring';

interface Flight {
  trial: number;
  phase: Phase;
  /** When the current phase began (ms): the agent and the experiment each have their own limit. */
  since: number;
  slot: number | null;
}

export interface ProgressOptions {
  metricName: string;
  direction: Direction;
  /** Seconds: one agent proposal, and one experiment (run and eval together). */
  agentTimeoutSeconds: number;
  experimentTimeoutSeconds: number;
  style: Style;
  now?: () => number;
  /** How often the elapsed times tick; 0 for never (tests). */
  tickMs?: number;
}

/**
 * The live lines of `crucible run` in a terminal: one per trial in flight (its phase, how long it
 * has been there against that phase's time limit), with the run's best and cost so far. The
 * finished trials' lines are the console reporter's, printed above.
 */
export function progressReporter(block: LiveBlock, options: ProgressOptions): LoopReporter & { lines(): string[] } {
  const now = options.now ?? Date.now;
  const { style } = options;
  const flights = new Map<number, Flight>();
  let best: number | null = null;
  let cost: number | null = null;
  let timer: NodeJS.Timeout | null = null;

  const limitOf = (phase: Phase): number | null => (phase === 'agent' ? options.agentTimeoutSeconds : phase === 'queued' ? null : options.experimentTimeoutSeconds);
  const lineOf = (flight: Flight): string => {
    const elapsed = (now() - flight.since) / 1000;
    const limit = limitOf(flight.phase);
    const late = limit !== null && elapsed > limit * 0.8;
    const clock = `${formatDuration(elapsed)}${limit === null ? '' : ` / ${formatDuration(limit)}`}`;
    const slot = flight.slot === null ? '' : style.dim(` slot ${flight.slot}`);
    const tail = style.dim(`  best ${options.metricName} ${formatMetric(best)}${cost === null ? '' : `, cost ${formatCost(cost)}`}`);
    return `${style.cyan('▸')} trial ${String(flight.trial).padStart(3)}  ${flight.phase.padEnd(9)} ${late ? style.yellow(clock) : clock}${slot}${tail}`;
  };
  const lines = (): string[] => [...flights.values()].sort((a, b) => a.trial - b.trial).map(lineOf);
  const redraw = (): void => {
    block.set(lines());
    if (flights.size > 0 && timer === null && (options.tickMs ?? 1000) > 0) {
      timer = setInterval(() => block.set(lines()), options.tickMs ?? 1000);
      timer.unref();
    } else if (flights.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
  const move = (trial: number, phase: Phase, slot?: number): void => {
    const flight = flights.get(trial) ?? { trial, phase, since: now(), slot: null };
    if (flight.phase !== phase) Object.assign(flight, { phase, since: now() });
    if (slot !== undefined) flight.slot = slot;
    flights.set(trial, flight);
    redraw();
  };

  return {
    lines,
    runStart(info) {
      if (info.baseline !== undefined && info.baseline !== null) best = info.baseline;
    },
    // Trial 0 is the baseline: no agent, it waits for the project folder.
    trialStart: (trial) => move(trial, trial === 0 ? 'queued' : 'agent'),
    agentDone: (trial) => move(trial, 'queued'),
    experimentStart: (trial, info) => move(trial, 'running', info.slot),
    measureStart: (trial) => move(trial, 'measuring'),
    trialEnd(summary) {
      flights.delete(summary.trial);
      if (summary.costUsd !== null) cost = (cost ?? 0) + summary.costUsd;
      if ((summary.outcome === 'keep' || summary.outcome === 'baseline') && summary.metric !== null && isBetter(summary.metric, best, options.direction)) best = summary.metric;
      if (summary.best !== null) best = summary.best;
      redraw();
    },
    runEnd() {
      flights.clear();
      if (timer !== null) clearInterval(timer);
      timer = null;
      block.clear();
    },
  };
}
