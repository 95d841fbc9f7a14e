/**
 * The test that lets work over a growing list be carried on from one call to the next (the
 * prompt's digest of the history, the tuner's memos). The lists it is used on only ever grow at
 * the end, or are made anew from new objects: a run's history (a trial that ended before an
 * earlier one is placed before it, which moves the last one seen), the tuner's memory of it (its
 * walk extended, or redone). So the first and the last item read, found at their places, say that
 * the list goes on from what was read. Comparing every item instead grew with the run.
 */
export function goesOn<T>(items: readonly T[], read: { seen: number; first: T | undefined; last: T | undefined }): boolean {
  const { seen } = read;
  return seen <= items.length && (seen === 0 || (items[0] === read.first && items[seen - 1] === read.last));
}
