/**
 * The tuner's trial descriptions: "CUTOFF 8 → 16, LR 0.01 → 0.02". They are its memory: the next
 * proposal parses them back out of the run's history to learn what was tried and what helped.
 */
import type { TuningChange } from './types.js';
import { parseNumber } from './literal.js';

export interface DescribedChange {
  name: string;
  from: number;
  to: number;
}

export function formatDescription(changes: readonly TuningChange[]): string {
  return changes.map((c) => `${c.name} ${c.fromText} → ${c.toText}`).join(', ');
}

const PART = /^(\S+) (\S+) (?:→|->) (\S+)$/;

/**
 * The changes a description names, or null when it is not one the tuner wrote (another agent's,
 * the baseline's, or one cut short).
 */
export function parseDescription(description: string): DescribedChange[] | null {
  const parts = description.trim().split(/\s*,\s+/);
  const changes: DescribedChange[] = [];
  for (const part of parts) {
    const match = PART.exec(part);
    if (match === null) return null;
    const [, name = '', fromText = '', toText = ''] = match;
    const from = parseNumber(fromText);
    const to = parseNumber(toText);
    if (Number.isNaN(from) || Number.isNaN(to)) return null;
    changes.push({ name, from, to });
  }
  return changes.length > 0 ? changes : null;
}
