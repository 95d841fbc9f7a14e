/**
 * The points being measured now: proposals handed out whose results have not come back. The
 * search must not propose any of them again, and spreads the next proposals away from them, much
 * as a "constant liar" does in parallel Bayesian optimisation, but without inventing a result:
 * only their places are known, so only places are avoided; what they teach waits for the result.
 */
import type { TunedParam } from './types.js';
import type { DescribedChange } from './description.js';
import { vectorKey } from './history.js';
import { toUnit } from './space.js';

export interface PendingMoves {
  /** In-flight moves of one constant, counted by direction from its value in the files. */
  up: number;
  down: number;
}

export interface PendingPoints {
  /** Keys (see `vectorKey`) of the combinations being measured. */
  keys: Set<string>;
  /** Constants that in-flight proposals move, by name. */
  moves: Map<string, PendingMoves>;
  /** How many in-flight proposals changed a constant that still exists. */
  count: number;
  /** The value combinations being measured. */
  values: Map<string, number>[];
}

/**
 * Where each in-flight proposal will be measured, seen from the values in the files: those values
 * with its constants set to their new ones. That is the point even when the proposal started from
 * an older best: its change is rebased onto the current one before it counts, and a rebase that
 * conflicts (the same constant moved meanwhile) ends it as stale, unmeasured.
 */
export function readPending(params: readonly TunedParam[], proposals: readonly (readonly DescribedChange[])[]): PendingPoints {
  const byName = new Map(params.map((p) => [p.name, p]));
  const pending: PendingPoints = { keys: new Set(), moves: new Map(), count: 0, values: [] };
  for (const changes of proposals) {
    const known = changes.filter((c) => byName.has(c.name));
    if (known.length === 0) continue;
    const values = new Map(params.map((p) => [p.name, p.value]));
    for (const c of known) values.set(c.name, c.to);
    pending.keys.add(vectorKey(params, values));
    pending.values.push(values);
    pending.count++;
    for (const c of known) {
      const param = byName.get(c.name)!;
      const delta = toUnit(param, c.to) - toUnit(param, param.value) || c.to - param.value;
      if (delta === 0) continue;
      const moves = pending.moves.get(c.name) ?? { up: 0, down: 0 };
      if (delta > 0) moves.up++;
      else moves.down++;
      pending.moves.set(c.name, moves);
    }
  }
  return pending;
}
