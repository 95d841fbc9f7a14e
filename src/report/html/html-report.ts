import { formatBytes } from './format-bytes.js';
import { artifactKinds, renderPage, type TrialTexts } from './page.js';
import { buildRunModel, buildRunModelFromRows, type RunModel } from './run-model.js';
import { readTrialText } from './trial-texts.js';
import { rowsOf, viewOf, type ProjectRecords } from '../load-run.js';

export interface HtmlReportOptions {
  /** Applied to every text of a trial before it goes in (the project's hidden-text redactor). */
  redact?: (text: string) => string;
  /** Per text, and for all texts together. */
  maxTextBytes?: number;
  maxTotalBytes?: number;
  now?: Date;
}

const MAX_TEXT_BYTES = 64 * 1024;
const MAX_TOTAL_BYTES = 16 * 1024 * 1024;

/**
 * One self-contained HTML file showing `tags` (resolved, their rows read): the dashboard's views,
 * with the data and each trial's texts inline, opened from a file with no server and no network.
 * Texts are taken newest trial first until the size limit, so a long run's report stays small
 * enough to attach and still has the trials people open first.
 */
export function buildHtmlReport(records: ProjectRecords, tags: readonly string[], options: HtmlReportOptions = {}): string {
  const metric = records.config.metric;
  const runs: RunModel[] = tags.map((tag) => {
    const view = viewOf(records, tag);
    return view === null ? buildRunModelFromRows(tag, rowsOf(records, tag), metric) : buildRunModel(tag, view, metric);
  });
  const maxText = options.maxTextBytes ?? MAX_TEXT_BYTES;
  let budget = options.maxTotalBytes ?? MAX_TOTAL_BYTES;
  let omitted = 0;
  const artifacts: Record<string, Record<number, TrialTexts>> = {};
  for (const run of runs) {
    const texts: Record<number, TrialTexts> = {};
    artifacts[run.tag] = texts;
    for (const trial of [...run.trials].reverse()) {
      if (budget <= 0) {
        omitted++;
        continue;
      }
      const kept: TrialTexts = {};
      for (const kind of artifactKinds) {
        const read = readTrialText(records.projectDir, run.tag, trial.n, kind, Math.min(maxText, Math.max(budget, 0)));
        if (read === null) continue;
        const text = options.redact ? options.redact(read.text) : read.text;
        kept[kind] = text;
        budget -= Buffer.byteLength(text);
      }
      texts[trial.n] = kept;
    }
  }
  return renderPage({
    mode: 'report',
    project: records.config.name,
    generatedAt: (options.now ?? new Date()).toISOString(),
    runs,
    artifacts,
    artifactsOmitted: omitted === 0 ? null : `the texts of ${omitted} older trial${omitted === 1 ? '' : 's'} were left out to keep the file under ${formatBytes(options.maxTotalBytes ?? MAX_TOTAL_BYTES)}`,
  });
}
