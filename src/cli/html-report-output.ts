import { loadConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { buildHtmlReport } from '../report/html/html-report.js';
import type { ProjectRecords } from '../report/load-run.js';
import { writeNamedFile } from '../store/trial-artifacts.js';
import { createAccessPolicy } from '../workspace/access-policy.js';
import { createHiddenTextRedactor } from '../workspace/hidden-text.js';
import type { Output } from './output.js';

/**
 * `--html`: the report of `tags` to `outFile`, or to stdout without one. A report is made to be
 * shared: the experiment's output and the agent's transcript can quote the hidden harness, so
 * every trial text goes through the same redactor as the agent's view of a crash.
 */
export function writeHtmlReport(records: ProjectRecords, tags: readonly string[], outFile: string | undefined, out: Output): void {
  const loaded = loadConfig(records.projectDir);
  if (!loaded.ok) throw new ConfigError(loaded.errors);
  const hidden = createHiddenTextRedactor(records.projectDir, createAccessPolicy(loaded.config.files));
  const html = buildHtmlReport(records, tags, { redact: hidden.redact });
  if (outFile === undefined) {
    out.data(html);
    return;
  }
  writeNamedFile(outFile, html);
  out.info(`HTML report written to ${outFile}`);
}
