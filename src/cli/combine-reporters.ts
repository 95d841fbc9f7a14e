import type { LoopReporter } from '../loop/events.js';

const METHODS = ['runStart', 'notice', 'warning', 'trialStart', 'agentDone', 'experimentStart', 'measureStart', 'trialEnd', 'stopRequested', 'runEnd'] as const satisfies ReadonlyArray<keyof LoopReporter>;

/** One reporter that tells each of `reporters` every event, in order (vitest's way: renderers of one stream). */
export function combineReporters(...reporters: LoopReporter[]): LoopReporter {
  const combined: Record<string, (...args: never[]) => void> = {};
  for (const method of METHODS) {
    const targets = reporters.filter((reporter) => reporter[method] !== undefined);
    if (targets.length === 0) continue;
    combined[method] = (...args: never[]): void => {
      for (const target of targets) (target[method] as (...a: never[]) => void).apply(target, args);
    };
  }
  return combined;
}
