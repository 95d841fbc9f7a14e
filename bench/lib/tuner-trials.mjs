import { performance } from 'node:perf_hooks';
import { childrenCpuMs } from './machine.mjs';

/**
 * One `startRun` of `count` trials through the given build's `startRun` (this checkout's dist/ or
 * an older one's), the tuner unless `agentType` says otherwise (null: the config's agent): every
 * trial's summary, the baseline excluded, plus the bench's own wall clock of each trial and of the
 * whole run. Overhead = totalMs − agentMs − runMs.
 */
export async function runTunerTrials(startRun, { projectDir, tag, count, env, stopSignal, agentType = 'tuner' }) {
  const trials = [];
  let startedAt = 0;
  // From the call to the first trial's start (opening the run), and from the last trial's end to
  // the return (ending the session): ms, null when no trial ran.
  let firstTrialAt = null;
  let lastTrialEndAt = null;
  // CPU time varies far less than wall time on a shared machine: crucible's own (this process,
  // the fake servers included when there are any) and its children's (git, the agent, the experiment).
  let cpuAt = process.cpuUsage();
  let childCpuAt = childrenCpuMs();
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
        firstTrialAt ??= startedAt - began;
        cpuAt = process.cpuUsage();
        childCpuAt = childrenCpuMs();
      },
      trialEnd(summary) {
        lastTrialEndAt = performance.now();
        if (summary.outcome === 'baseline') return;
        trials.push({
          trial: summary.trial,
          outcome: summary.outcome,
          agentMs: summary.agentMs,
          runMs: summary.runMs,
          totalMs: summary.totalMs,
          overheadMs: summary.totalMs - summary.agentMs - summary.runMs,
          wallMs: performance.now() - startedAt,
          ownCpuMs: cpuMsSince(cpuAt),
          childCpuMs: childCpuAt === null ? null : childrenCpuMs() - childCpuAt,
        });
        if (performance.now() - lastProgress > 10_000) {
          lastProgress = performance.now();
          process.stderr.write(`  ${trials.length}/${count} trials\n`);
        }
      },
    },
  });
  const endedAt = performance.now();
  return { trials, reason: report.reason.kind, wallMs: endedAt - began, openMs: firstTrialAt, closeMs: lastTrialEndAt === null ? null : endedAt - lastTrialEndAt };
}

function cpuMsSince(start) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}
