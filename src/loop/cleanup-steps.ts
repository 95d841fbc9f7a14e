/**
 * The end of a run releases several things (the last ledger line, the agent's worktree, the
 * locks). Each must be attempted whatever the others do: on a full disk the ledger line fails,
 * and the locks must still go. The first error is the one worth reporting; later ones are
 * usually its echo.
 */

/** Runs every step in order; returns the errors they threw, first first. */
export async function runEveryStep(steps: ReadonlyArray<() => unknown>): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}

/** The synchronous twin of runEveryStep, for close(): throws the first error once every step ran. */
export function runEveryStepSync(steps: ReadonlyArray<() => void>): void {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
}
