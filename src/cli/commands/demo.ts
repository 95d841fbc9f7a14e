import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, ExitError } from '../../errors.js';
import { startRun } from '../../loop/start-run.js';
import { createFromExample } from '../../project/new-project.js';
import { formatMetric, formatPercent } from '../../report/format.js';
import { consoleReporter } from '../console-reporter.js';
import type { Output } from '../output.js';

const EXAMPLE = 'optimize-sorting';

/**
 * `npm run demo`: a real optimisation, offline, from nothing: the optimize-sorting example in a new
 * folder, its own git repository, the tuner as agent, a few trials, and the gain over the baseline.
 */
export async function demoCommand(options: { trials: number; dir: string | undefined }, out: Output): Promise<void> {
  const dest = options.dir ?? path.join(mkdtempSync(path.join(os.tmpdir(), 'crucible-demo-')), EXAMPLE);
  createFromExample(dest, EXAMPLE);
  out.info(out.style.bold(`crucible demo: ${EXAMPLE}, ${options.trials} trials with the offline tuner`));
  out.info(`project: ${dest}`);
  const abort = new AbortController();
  const stop = new AbortController();
  const onInterrupt = (): void => (stop.signal.aborted ? abort.abort() : stop.abort());
  process.on('SIGINT', onInterrupt);
  try {
    const report = await startRun({
      projectDir: dest,
      tag: 'demo',
      agentType: 'tuner',
      maxIterations: options.trials,
      reporter: consoleReporter(out, 'ops_per_sec', 'maximize'),
      stopSignal: stop.signal,
      abortSignal: abort.signal,
    });
    if (report.baseline === null || report.best === null) throw new ExitError(ExitCode.failure);
    const pct = ((report.best - report.baseline) / Math.abs(report.baseline)) * 100;
    const kept = report.history.filter((t) => t.outcome === 'keep');
    out.info('');
    out.info(out.style.bold(`ops_per_sec: ${formatMetric(report.baseline)} → ${formatMetric(report.best)} (${formatPercent(pct)}), ${kept.length} change${kept.length === 1 ? '' : 's'} kept:`));
    for (const t of kept) out.info(`  trial ${t.trial}: ${t.description} → ${formatMetric(t.metric)}`);
    out.info('');
    // From a clone (`npm run demo`) the command is not on PATH: show one that works as typed.
    const script = process.argv[1] ?? '';
    const crucible = path.basename(script) === 'crucible' ? 'crucible' : `node ${script}`;
    out.info('Look around:');
    out.info(`  cd ${dest}`);
    out.info(`  ${crucible} status; ${crucible} history; ${crucible} postmortem`);
    out.info('  git log --oneline crucible/demo');
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
