import { performance } from 'node:perf_hooks';

/**
 * One `startRun` of `count` trials through the given build's `startRun` (this checkout's dist/ or
 * an older one's), the tuner unless `agentType` says otherwise (null: the config's agent): every
 * trial's summary, the baseline excluded, plus the bench's own wall clock of each trial and of the
 * whole run. Overhead = totalMs − agentMs − runMs.
 */
export async function runTunerTrials(startRun, { projectDir, tag, count, env, stopSignal, agentType = 'tuner' }) {
  const trials = [];
  let startedAt = 0;
  let lastProgress = performance.now();
  const began = performance.now();
  const report = await startRun({
    projectDir,
    tag,
    ...(agentType === null ? {} : { agentType }),
    maxIterations: count,
    env,
    stopSignal,
    // Sub-millisecond clock: Date.now() would round every duration to whole ms.
    now: () => performance.timeOrigin + performance.now(),
    reporter: {
      trialStart() {
        startedAt = performance.now();
      },
      trialEnd(summary) {
        if (summary.outcome === 'baseline') return;
        trials.push({
          trial: summary.trial,
          outcome: summary.outcome,
          agentMs: summary.agentMs,
          runMs: summary.runMs,
          totalMs: summary.totalMs,
          overheadMs: summary.totalMs - summary.agentMs - summary.runMs,
          wallMs: performance.now() - startedAt,
        });
        if (performance.now() - lastProgress > 10_000) {
          lastProgress = performance.now();
          process.stderr.write(`  ${trials.length}/${count} trials\n`);
        }
      },
    },
  });
  return { trials, reason: report.reason.kind, wallMs: performance.now() - began };
}
