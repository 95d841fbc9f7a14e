import type { Direction } from '../config/schema.js';
import { isKept, type Outcome } from '../core/outcome.js';
import type { ResultRow } from '../store/result-row.js';
import { isBetter, measureGain } from '../core/objective.js';
import type { NoiseFloor } from '../core/noise-floor.js';
import { keepEvidence, noiseOfRows, type KeepEvidence } from './noise.js';
import { sortByTrial, summarizeRun, type RunSummary } from './summary.js';

/** One trial on the way, with the best metric reached up to and including it. */
export interface TrendPoint {
  trial: number;
  metric: number | null;
  status: Outcome;
  description: string;
  commit: string;
  bestSoFar: number | null;
  /** Where the trial came from, when its record says (runs of older versions do not). */
  parent?: string;
  base?: string;
  slot?: number;
  remeasureOf?: number;
  /** Raw values from the ledger: the candidate's runs, and the incumbent's beside it while confirming. */
  samples?: number[];
  incumbentSamples?: number[];
}

/** A promising result measured on an outdated base, and the trial that measured it again on the incumbent. */
export interface Remeasure {
  trial: number;
  /** The trial that measured the change again, and what came of it. */
  as: number;
  status: Outcome;
  metric: number | null;
}

/** Consecutive trials without a keep. */
export interface FailureStreak {
  startTrial: number;
  endTrial: number;
  length: number;
}

/** A kept trial that raised the best, and by how much (positive means better). */
export interface TurningPoint {
  trial: number;
  commit: string;
  description: string;
  from: number;
  to: number;
  absolute: number;
  /** null when the previous best was 0. */
  percent: number | null;
}

/** The trailing trials that did not improve the best. */
export interface Plateau {
  sinceTrial: number;
  length: number;
}

export interface Postmortem {
  summary: RunSummary;
  trend: TrendPoint[];
  failureStreaks: FailureStreak[];
  /** The largest relative improvements first; at most three. */
  turningPoints: TurningPoint[];
  plateau: Plateau | null;
  /** By the first trial's number; only re-measurements that have been recorded. */
  remeasured: Remeasure[];
  /** Trials whose change no longer applied to a moved incumbent (not measured), by number. */
  stale: number[];
  /** The baseline's spread; null when it ran once or the records predate repeats. */
  noise: NoiseFloor | null;
  /** Every keep, by trial: its margin and how many runs it rested on. */
  keeps: KeepEvidence[];
}

const minStreakLength = 2;
const minPlateauLength = 3;
const maxTurningPoints = 3;

/** What happened in one run, in numbers; rendering is postmortem-render's job. */
export function analyzeRun(rows: readonly ResultRow[], direction: Direction): Postmortem {
  const summary = summarizeRun(rows, direction);
  const ordered = sortByTrial(rows);
  const trend: TrendPoint[] = [];
  const candidates: TurningPoint[] = [];
  // Per trial after the baseline: did it raise the best? Feeds the plateau.
  const improvedFlags: Array<{ trial: number; improved: boolean }> = [];
  let best: number | null = null;

  for (const row of ordered) {
    const metric = isKept(row.status) ? row.metric : null;
    const improved = metric !== null && (best === null || isBetter(metric, best, direction));
    if (improved) {
      // The first measured best has nothing to improve on; later keeps are turning points.
      if (row.status === 'keep' && best !== null) {
        const gain = measureGain(best, metric, direction);
        candidates.push({ trial: row.trial, commit: row.commit, description: row.description, from: best, to: metric, ...gain });
      }
      best = metric;
    }
    if (row.status !== 'baseline') improvedFlags.push({ trial: row.trial, improved });
    const point: TrendPoint = {
      trial: row.trial,
      metric: row.metric,
      status: row.status,
      description: row.description,
      commit: row.commit,
      bestSoFar: best,
    };
    if (row.parent !== undefined) point.parent = row.parent;
    if (row.base !== undefined) point.base = row.base;
    if (row.slot !== undefined) point.slot = row.slot;
    if (row.remeasureOf !== undefined) point.remeasureOf = row.remeasureOf;
    if (row.samples !== undefined) point.samples = row.samples;
    if (row.incumbentSamples !== undefined) point.incumbentSamples = row.incumbentSamples;
    trend.push(point);
  }

  return {
    summary,
    trend,
    failureStreaks: findFailureStreaks(ordered),
    turningPoints: rankTurningPoints(candidates),
    plateau: findPlateau(improvedFlags),
    remeasured: ordered
      .filter((row) => row.remeasureOf !== undefined)
      .map((row) => ({ trial: row.remeasureOf!, as: row.trial, status: row.status, metric: row.metric }))
      .sort((a, b) => a.trial - b.trial || a.as - b.as),
    stale: ordered.filter((row) => row.status === 'stale').map((row) => row.trial),
    noise: noiseOfRows(ordered),
    keeps: keepEvidence(ordered, direction),
  };
}

/** Maximal runs of consecutive non-keep trials (baseline aside), two or longer. */
function findFailureStreaks(ordered: readonly ResultRow[]): FailureStreak[] {
  const streaks: FailureStreak[] = [];
  let current: FailureStreak | null = null;
  for (const row of ordered) {
    if (row.status === 'baseline') continue;
    if (row.status === 'keep') {
      if (current !== null && current.length >= minStreakLength) streaks.push(current);
      current = null;
    } else if (current === null) {
      current = { startTrial: row.trial, endTrial: row.trial, length: 1 };
    } else {
      current.endTrial = row.trial;
      current.length += 1;
    }
  }
  if (current !== null && current.length >= minStreakLength) streaks.push(current);
  return streaks;
}

function rankTurningPoints(candidates: readonly TurningPoint[]): TurningPoint[] {
  // Leaving a best of exactly 0 has no ratio; count it as the largest step, since any gain
  // from 0 is.
  const relative = (point: TurningPoint): number => point.percent ?? Number.POSITIVE_INFINITY;
  return [...candidates]
    .sort((a, b) => relative(b) - relative(a) || a.trial - b.trial)
    .slice(0, maxTurningPoints);
}

function findPlateau(flags: ReadonlyArray<{ trial: number; improved: boolean }>): Plateau | null {
  let length = 0;
  while (length < flags.length && flags[flags.length - 1 - length]?.improved === false) length += 1;
  const first = flags[flags.length - length];
  if (length < minPlateauLength || first === undefined) return null;
  return { sinceTrial: first.trial, length };
}
