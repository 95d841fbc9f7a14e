import { measureGain } from '../core/objective.js';
import type { LoopReporter } from '../loop/events.js';
import { describeStop } from '../loop/stop-rules.js';
import { formatMetric, formatPercent } from '../report/format.js';
import type { Output } from './output.js';

/** Progress of a run as console lines on stderr: one line per trial, with time and outcome. */
export function consoleReporter(out: Output, metricName: string, direction: 'minimize' | 'maximize' = 'maximize'): LoopReporter {
  const { style } = out;
  const time = (): string => style.dim(new Date().toTimeString().slice(0, 8));
  const say = (text: string): void => out.info(`${time()} ${text}`);
  let baseline: number | null = null;
  const gainText = (value: number | null): string => {
    const pct = value === null || baseline === null ? null : measureGain(baseline, value, direction).percent;
    return pct === null ? '' : `${formatPercent(pct)} vs baseline`;
  };
  return {
    runStart(info) {
      if (info.baseline !== undefined && info.baseline !== null) baseline = info.baseline;
      const how = info.resumed ? `resumed (${info.previousTrials} trials so far)` : info.forkedFrom ? `new, forked from ${info.forkedFrom.tag}` : 'new';
      say(`${style.bold(`run ${info.tag}`)} on ${info.branch}, ${how}; agent: ${info.agent}`);
      out.debug(`agent workspace: ${info.worktree}`);
      out.info(style.dim('Press Ctrl+C to stop after the current trial (twice to stop at once).'));
    },
    notice: (message) => say(message),
    warning: (message) => out.warn(message),
    trialStart(trial) {
      out.debug(`trial ${trial}: started`);
    },
    agentDone(trial, info) {
      out.debug(`trial ${trial}: agent done in ${(info.ms / 1000).toFixed(1)}s, changed ${info.files.join(', ') || 'nothing'}: ${info.description}`);
    },
    experimentStart(trial, info) {
      out.debug(`trial ${trial}: running the experiment on ${info.commit.slice(0, 7)}`);
    },
    trialEnd(summary, info) {
      if (summary.outcome === 'baseline') baseline = summary.metric;
      const label = summary.outcome.padEnd(11);
      const colored =
        summary.outcome === 'keep' ? style.green(label) : summary.outcome === 'crash' || summary.outcome === 'violation' || summary.outcome === 'agent-error' ? style.red(label) : summary.outcome === 'baseline' ? style.cyan(label) : style.yellow(label);
      const metric = summary.metric === null ? '-' : formatMetric(summary.metric);
      const gain = summary.outcome === 'keep' ? style.green(` ${gainText(summary.metric)}`) : '';
      const secs = style.dim(`${(summary.totalMs / 1000).toFixed(1)}s`);
      say(`trial ${String(summary.trial).padStart(3)}  ${colored} ${metricName} ${metric.padStart(10)}${gain}  ${summary.description}  ${secs}`);
      if (summary.detail && summary.outcome !== 'keep' && summary.outcome !== 'discard') {
        const lines = out.verbose ? summary.detail.trim().split('\n').slice(0, 40) : keyLines(summary.detail);
        for (const line of lines) out.info(style.dim(`         ${line}`));
      }
      void info;
    },
    stopRequested() {
      out.info(style.yellow('Stopping after the current trial (Ctrl+C again to stop now)...'));
    },
    runEnd(info) {
      const best = info.best === null ? 'no metric yet' : `best ${metricName} ${formatMetric(info.best)}`;
      const vs = info.best !== null && info.baseline !== null ? ` (baseline ${formatMetric(info.baseline)}, ${gainText(info.best) || 'no change'})` : '';
      say(`${style.bold('Stopped')}: ${describeStop(info.reason)}. ${info.trials} trial${info.trials === 1 ? '' : 's'} this session; ${best}${vs}.`);
    },
  };
}

/**
 * The lines of a crash report worth a glance: its first line (what failed) and the error message
 * itself (`TypeError: ...`, `ModuleNotFoundError: ...`), which sits after a code frame in Node
 * and at the end of a Python traceback.
 */
export function keyLines(report: string): string[] {
  const lines = report.trim().split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const head = lines[0] ?? '';
  const errorLine = lines
    .slice(1)
    .reverse()
    .find((l) => /^\s*([A-Za-z_.]*(Error|Exception|Interrupt)\b|error:|fatal:|panic:)/i.test(l));
  const fallback = lines.length > 1 ? lines.at(-1) : undefined;
  const second = errorLine ?? fallback;
  return second && second !== head ? [head, second.trim()] : [head];
}
