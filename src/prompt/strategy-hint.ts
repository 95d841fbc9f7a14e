/**
 * Advice that changes with the run's recent luck: push on after a success, look again after a few
 * failures, and go for something radically different after many. `attempts`: the trials tried (a
 * stale one was never measured: the best moved under it, so it is no attempt and no miss);
 * `misses`: how many of the last of them in a row were not kept.
 */
export function strategyHint(attempts: number, misses: number): string {
  if (attempts === 0) {
    return 'First attempt: read all the code, find the single biggest bottleneck, and change that.';
  }
  if (misses === 0) return 'The last change worked: go further in the same direction.';
  if (misses === 1) return 'The last attempt did not help: try a different improvement along a direction that has worked.';
  if (misses <= 3) return `${misses} attempts in a row did not help: re-read the code from scratch; something important may have been missed.`;
  if (misses <= 5) return `${misses} attempts in a row did not help: combine two ideas that worked before, or revisit a successful direction with a new twist.`;
  return `${misses} attempts in a row did not help: make a radically different change (another algorithm, another data structure, the opposite of what has been tried).`;
}
