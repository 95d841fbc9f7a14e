/** A running test cluster (see slurm-cluster.mjs). */
export interface SlurmCluster {
  dir: string;
  /** The environment every Slurm command (and crucible) needs to reach this cluster. */
  env: NodeJS.ProcessEnv;
  stop(): void;
}
/** Why a test cluster cannot run here, or null when it can. */
export function slurmUnavailable(): string | null;
/** Starts a cluster (about 2–7 s). Throws with the daemons' logs when it does not come up. */
export function startSlurmCluster(opts?: { cpus?: number }): SlurmCluster;
