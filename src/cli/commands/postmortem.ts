import { ProjectError } from '../../errors.js';
import { loadProjectRecords, resolveTag, rowsOf } from '../../report/load-run.js';
import { postmortemJson } from '../../report/postmortem-json.js';
import { renderPostmortem } from '../../report/postmortem-render.js';
import { analyzeRun } from '../../report/postmortem.js';
import type { Output } from '../output.js';

export async function postmortemCommand(options: { projectDir: string; tag: string | undefined; json: boolean }, out: Output): Promise<void> {
  const records = await loadProjectRecords(options.projectDir);
  for (const problem of records.problems) out.warn(`results.tsv: ${problem}`);
  const tag = await resolveTag(records, options.tag);
  const rows = rowsOf(records, tag);
  if (rows.length === 0) throw new ProjectError(`run "${tag}" has no trials recorded yet`);
  const pm = analyzeRun(rows, records.config.metric.direction);
  out.data(
    options.json
      ? JSON.stringify({ metric: records.config.metric, ...postmortemJson(pm) })
      : renderPostmortem(pm, { metricName: records.config.metric.name, width: out.columns }),
  );
}
