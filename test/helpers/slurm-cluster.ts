import { slurmUnavailable } from '../../bench/lib/slurm-cluster.mjs';

/** A real single-node Slurm under one temporary folder (bench/lib/slurm-cluster.mjs). */
export { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../../bench/lib/slurm-cluster.mjs';

/** Appended to a describe title: empty, or why its tests are skipped. */
export const slurmSkipReason = ((): string => {
  const reason = slurmUnavailable();
  return reason === null ? '' : ` (skipped: ${reason})`;
})();
