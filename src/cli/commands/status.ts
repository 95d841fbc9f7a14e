import { summarizeRun } from '../../report/summary.js';
import { renderStatus, statusJson } from '../../report/status.js';
import { describeInFlight } from '../../report/in-flight.js';
import { inFlightOf, loadProjectRecords, resolveTag, rowsOf, runningProcess } from '../../report/load-run.js';
import { noiseOfRows } from '../../report/noise.js';
import { checkTag } from '../../store/run-paths.js';
import type { Output } from '../output.js';

export async function statusCommand(options: { projectDir: string; tag: string | undefined; json: boolean }, out: Output): Promise<void> {
  if (options.tag !== undefined) checkTag(options.tag); // a bad tag is a bad command line, found before any file is read
  const records = await loadProjectRecords(options.projectDir, [options.tag]);
  for (const problem of records.problems) out.warn(`results.tsv: ${problem}`);
  const tag = await resolveTag(records, options.tag);
  const { config } = records;
  const rows = rowsOf(records, tag);
  const input = {
    experiment: config.name,
    tag,
    branch: `${config.git.branch_prefix}/${tag}`,
    metricName: config.metric.name,
    direction: config.metric.direction,
    summary: summarizeRun(rows, config.metric.direction),
    noise: noiseOfRows(rows),
    running: runningProcess(records.projectDir, tag),
    inFlight: describeInFlight(inFlightOf(records, tag), new Date()),
  };
  out.data(options.json ? JSON.stringify(statusJson(input)) : renderStatus(input));
}
