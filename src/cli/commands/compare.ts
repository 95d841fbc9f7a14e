import { UsageError } from '../../errors.js';
import { compareJson, renderCompare } from '../../report/compare.js';
import { loadProjectRecords, resolveTag, rowsOf } from '../../report/load-run.js';
import { summarizeRun } from '../../report/summary.js';
import { checkTag } from '../../store/run-paths.js';
import type { Output } from '../output.js';

export async function compareCommand(options: { projectDir: string; tagA: string; tagB: string; json: boolean; html?: boolean; out?: string }, out: Output): Promise<void> {
  if (options.out !== undefined && !options.html) throw new UsageError('--out goes with --html');
  if (options.html && options.json) throw new UsageError('--html cannot be combined with --json');
  checkTag(options.tagA);
  checkTag(options.tagB);
  if (options.tagA === options.tagB) throw new UsageError(`compare needs two different runs, got "${options.tagA}" twice`);
  const records = await loadProjectRecords(options.projectDir, [options.tagA, options.tagB]);
  for (const problem of records.problems) out.warn(`results.tsv: ${problem}`);
  const direction = records.config.metric.direction;
  const tags = await Promise.all([options.tagA, options.tagB].map((tag) => resolveTag(records, tag)));
  if (options.html) {
    const { writeHtmlReport } = await import('../html-report-output.js');
    writeHtmlReport(records, tags, options.out, out);
    return;
  }
  const [a, b] = tags.map((tag) => summarizeRun(rowsOf(records, tag), direction));
  out.data(options.json ? JSON.stringify(compareJson(a!, b!)) : renderCompare(a!, b!, records.config.metric.name));
}
