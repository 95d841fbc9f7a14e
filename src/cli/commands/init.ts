import { openRun } from '../../loop/open-run.js';
import { consoleReporter } from '../console-reporter.js';
import type { Output } from '../output.js';

/** Creates the run's branch and records without running any trial. */
export async function initCommand(options: { projectDir: string; tag: string }, out: Output): Promise<void> {
  const run = await openRun({ projectDir: options.projectDir, tag: options.tag, withAgent: false, reporter: consoleReporter(out, 'metric') });
  run.close();
  out.info(run.created ? `Initialised run ${run.tag} on branch ${run.branch}.` : `Run ${run.tag} already exists on branch ${run.branch}; nothing to do.`);
}
