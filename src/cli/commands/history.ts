import { historyJson, renderHistory } from '../../report/history.js';
import { loadProjectRecords, resolveTag, rowsOf } from '../../report/load-run.js';
import { checkTag } from '../../store/run-paths.js';
import type { Output } from '../output.js';

export async function historyCommand(options: { projectDir: string; tag: string | undefined; last: number; json: boolean }, out: Output): Promise<void> {
  if (options.tag !== undefined) checkTag(options.tag); // a bad tag is a bad command line, found before any file is read
  const records = await loadProjectRecords(options.projectDir, [options.tag]);
  for (const problem of records.problems) out.warn(`results.tsv: ${problem}`);
  const tag = await resolveTag(records, options.tag);
  const rows = rowsOf(records, tag);
  out.data(
    options.json
      ? JSON.stringify(historyJson(rows, options.last))
      : renderHistory(rows, { last: options.last, width: out.columns, metricName: records.config.metric.name }),
  );
}
