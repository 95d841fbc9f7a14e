/**
 * The loop driving the tuner, serially, as a pure simulation: greedy keeps (strictly better,
 * maximizing), the files hold the best values, every proposal seeded by (seed, trial) like the
 * backend's. For tests of the search as a pure function of its history.
 */
import type { TrialView } from '../../src/agents/types.js';
import type { TunedParam } from '../../src/agents/tuner/types.js';
import { formatDescription } from '../../src/agents/tuner/description.js';
import { vectorKey } from '../../src/agents/tuner/history.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { proposeTuning } from '../../src/agents/tuner/search.js';

export type Landscape = (values: ReadonlyMap<string, number>) => number | null;

export const tunedParam = (name: string, value: number, range: Pick<TunedParam, 'low' | 'high'> & Partial<TunedParam>): TunedParam => ({
  name,
  file: 'f.js',
  line: 1,
  int: false,
  log: false,
  value,
  literal: String(value),
  column: 0,
  ...range,
});

export function simulateTuner(start: TunedParam[], f: Landscape, seed: number, trials: number, maxChanges = 2) {
  let params = start;
  let best = f(new Map(params.map((p) => [p.name, p.value])))!;
  const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: best, description: 'baseline' }];
  const proposals: string[] = [];
  const notes: string[][] = [];
  for (let trial = 1; trial <= trials; trial++) {
    const proposal = proposeTuning(params, history, createRng(hashSeed(seed, trial)), { maxChanges, seed, direction: 'maximize' });
    const { changes } = proposal;
    if (changes.length === 0) break;
    notes.push(proposal.notes);
    const values = new Map(params.map((p) => [p.name, p.value]));
    for (const c of changes) values.set(c.name, c.to);
    proposals.push(vectorKey(params, values));
    const metric = f(values);
    const kept = metric !== null && metric > best;
    history.push({ trial, outcome: metric === null ? 'crash' : kept ? 'keep' : 'discard', metric, description: formatDescription(changes) });
    if (kept) {
      best = metric;
      params = params.map((p) => ({ ...p, value: values.get(p.name)!, literal: changes.find((c) => c.name === p.name)?.toText ?? p.literal }));
    }
  }
  return { best, history, proposals, params, notes };
}
