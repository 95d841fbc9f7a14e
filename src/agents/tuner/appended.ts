/**
 * The test every memo of the tuner uses to carry its work from one proposal to the next. The
 * lists it reads (the memory's trials and points, walked from the history) only ever grow at the
 * end while the walk is extended, and are made of new objects when it is redone, so the first and
 * the last item a memo read, found at their places, say that the list goes on from what it read.
 * Comparing every item instead grew with the run.
 */
export function goesOn<T>(items: readonly T[], read: { seen: number; first: T | undefined; last: T | undefined }): boolean {
  const { seen } = read;
  return seen <= items.length && (seen === 0 || (items[0] === read.first && items[seen - 1] === read.last));
}
