import type { Direction } from '../core/objective.js';
import type { LoopReporter } from '../loop/events.js';
import { combineReporters } from './combine-reporters.js';
import { consoleReporter } from './console-reporter.js';
import { jsonReporter } from './json-reporter.js';
import { createLiveBlock } from './live-block.js';
import type { Output } from './output.js';
import { progressReporter } from './progress-reporter.js';

export interface RunReporterOptions {
  json: boolean;
  metricName: string;
  direction: Direction;
  agentTimeoutSeconds: number;
  experimentTimeoutSeconds: number;
  /** Standard output and standard error are both terminals (and TERM is not "dumb"). */
  terminal: boolean;
}

export interface RunReporter {
  reporter: LoopReporter;
  /** The output the command's own lines go through (above the live lines, when there are some). */
  out: Output;
  /** Takes the live lines off the screen (a run that ends by an error never reaches runEnd). */
  close(): void;
}

/**
 * How `crucible run` shows its progress, all from the same events: `--json`, one object per line
 * on stdout (people's lines stay on stderr); in a terminal, live lines for the trials in flight
 * under the finished trials' lines; otherwise the finished trials' lines alone, as a log file
 * wants them.
 */
export function chooseRunReporter(out: Output, options: RunReporterOptions, stderr: NodeJS.WritableStream = process.stderr): RunReporter {
  if (options.json) {
    return { reporter: combineReporters(consoleReporter(out, options.metricName, options.direction), jsonReporter((line) => out.data(line))), out, close: () => undefined };
  }
  if (!options.terminal) return { reporter: consoleReporter(out, options.metricName, options.direction), out, close: () => undefined };
  // The width is read at each redraw: the terminal may be resized during a run of hours.
  const block = createLiveBlock(stderr, () => terminalWidth(stderr, out.columns));
  const above = block.around(out);
  const progress = progressReporter(block, {
    metricName: options.metricName,
    direction: options.direction,
    agentTimeoutSeconds: options.agentTimeoutSeconds,
    experimentTimeoutSeconds: options.experimentTimeoutSeconds,
    style: out.style,
  });
  // Progress first: a finished trial leaves the live lines before its line is printed above them.
  return { reporter: combineReporters(progress, consoleReporter(above, options.metricName, options.direction)), out: above, close: () => block.clear() };
}

/** The terminal's width; a pseudo-terminal that reports none (0) falls back to COLUMNS, then 80. */
function terminalWidth(stream: NodeJS.WritableStream, fallback: number): number {
  const columns = (stream as { columns?: number }).columns;
  if (columns !== undefined && columns > 0) return columns;
  return fallback > 0 ? fallback : 80;
}
