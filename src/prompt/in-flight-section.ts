import type { InFlightTrial } from '../agents/types.js';

// A prompt stays bounded however many proposals are in flight; the rest are counted.
const MAX_SHOWN = 10;
const MAX_FILES = 4;

/**
 * The changes proposed by others and not decided yet, so that this agent does not spend a slot
 * on one of them again. Null when none: the serial prompt is unchanged.
 */
export function inFlightSection(inFlight: readonly InFlightTrial[]): string | null {
  if (inFlight.length === 0) return null;
  const shown = [...inFlight].sort((a, b) => a.trial - b.trial).slice(-MAX_SHOWN);
  const lines = ['## Being measured now', '', 'These changes are already being measured; do not repeat them, pick something different:'];
  for (const t of shown) lines.push(`- trial ${t.trial}: ${oneLine(t.description)}${describeFiles(t.files)}`);
  if (shown.length < inFlight.length) lines.push(`- and ${inFlight.length - shown.length} earlier one(s)`);
  return lines.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim() || '(no description)';
}

function describeFiles(files: readonly string[]): string {
  if (files.length === 0) return '';
  const named = files.slice(0, MAX_FILES).join(', ');
  return files.length > MAX_FILES ? ` (${named} and ${files.length - MAX_FILES} more)` : ` (${named})`;
}
