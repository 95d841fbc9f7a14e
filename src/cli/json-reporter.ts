import type { LoopReporter } from '../loop/events.js';
import { describeStop } from '../loop/stop-rules.js';

/**
 * `crucible run --json`: every event of the run as one JSON object per line on stdout, for other
 * tools to follow (docs/events.md). The objects are the reporter's events as they are, with a
 * version, a time and a type; fields are only ever added.
 */
export function jsonReporter(write: (line: string) => void, now: () => Date = () => new Date()): LoopReporter {
  const emit = (type: string, fields: Record<string, unknown>): void => write(JSON.stringify({ v: 1, ts: now().toISOString(), type, ...fields }));
  return {
    runStart: (info) => emit('run.start', { ...info }),
    notice: (message) => emit('notice', { message }),
    warning: (message) => emit('warning', { message }),
    trialStart: (trial) => emit('trial.start', { trial }),
    agentDone: (trial, info) => emit('agent.done', { trial, ...info }),
    experimentStart: (trial, info) => emit('experiment.start', { trial, ...info }),
    measureStart: (trial) => emit('measure.start', { trial }),
    trialEnd: (summary, info) => emit('trial.end', { trial: summary.trial, summary, ...info }),
    stopRequested: () => emit('stop.requested', {}),
    runEnd: (info) => emit('run.end', { ...info, description: describeStop(info.reason) }),
  };
}
