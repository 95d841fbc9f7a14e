import type { TextModel, TextModelType } from '../../agents/text-model.js';
import type { Config } from '../../config/schema.js';
import { ConfigError, ProjectError, UsageError } from '../../errors.js';
import { buildInsightsPrompt } from '../../report/insights-prompt.js';
import { loadProjectRecords, resolveTag, rowsOf, viewOf } from '../../report/load-run.js';
import { postmortemJson } from '../../report/postmortem-json.js';
import { renderPostmortem } from '../../report/postmortem-render.js';
import { analyzeRun } from '../../report/postmortem.js';
import { checkTag } from '../../store/run-paths.js';
import { createAccessPolicy } from '../../workspace/access-policy.js';
import { createHiddenTextRedactor } from '../../workspace/hidden-text.js';
import type { Output } from '../output.js';

export interface PostmortemCommandOptions {
  projectDir: string;
  tag: string | undefined;
  json: boolean;
  /** The self-contained HTML report instead of text, to `out` or stdout. */
  html?: boolean;
  out?: string;
  /** Ask a model for insights after the report. */
  ai?: boolean;
  /** The backend that writes them, over agent.type. */
  agent?: TextModelType;
  /** The model, over agent.model. */
  model?: string;
  env?: NodeJS.ProcessEnv;
}

export async function postmortemCommand(options: PostmortemCommandOptions, out: Output): Promise<void> {
  if (options.out !== undefined && !options.html) throw new UsageError('--out goes with --html');
  if (options.html && (options.json || options.ai)) throw new UsageError('--html cannot be combined with --json or --ai');
  if (options.tag !== undefined) checkTag(options.tag); // a bad tag is a bad command line, found before any file is read
  // Its report reads every record whole (viewOf): not through the checkpoint, which holds rows only.
  const records = await loadProjectRecords(options.projectDir, [options.tag], { whole: true });
  for (const problem of records.problems) out.warn(`results.tsv: ${problem}`);
  const tag = await resolveTag(records, options.tag);
  const rows = rowsOf(records, tag);
  if (rows.length === 0) throw new ProjectError(`run "${tag}" has no trials recorded yet`);
  if (options.html) {
    const { writeHtmlReport } = await import('../html-report-output.js');
    writeHtmlReport(records, [tag], options.out, out);
    return;
  }
  const { config } = records;
  const pm = analyzeRun(rows, config.metric.direction);
  // Missing credentials fail here, before any output. The full config (agent settings) and the
  // model SDKs are loaded only for --ai: the plain report stays fast.
  const full = options.ai ? await fullConfig(records.projectDir) : null;
  const agentSettings = full?.agent ?? null;
  const model = agentSettings ? await textModelFor(agentSettings, options) : null;

  const trials = viewOf(records, tag)?.history;
  if (!options.json) out.data(renderPostmortem(pm, { metricName: config.metric.name, width: out.columns, ...(trials ? { trials } : {}) }));
  if (model === null) {
    if (options.json) out.data(JSON.stringify({ metric: config.metric, ...postmortemJson(pm) }));
    return;
  }

  out.info(`Asking ${model.label} (${model.type}) for insights...`);
  // Descriptions come from agents and their diffs: hidden files' text is removed before the model sees them.
  const hiddenText = createHiddenTextRedactor(records.projectDir, createAccessPolicy(full!.files));
  const prompt = buildInsightsPrompt(pm, { metricName: config.metric.name, experiment: { name: config.name, description: config.description }, redact: hiddenText.redact });
  const answer = await model.complete(prompt.system, prompt.user, AbortSignal.timeout(agentSettings!.timeout_seconds * 1000));
  const insights = answer.text.trim() || '(the model gave no insights)';
  if (options.json) {
    const usage = answer.usage;
    out.data(
      JSON.stringify({
        metric: config.metric,
        ...postmortemJson(pm),
        ai_insights: insights,
        ai_usage: {
          agent: model.type,
          model: answer.model,
          input_tokens: usage.inputTokens,
          output_tokens: usage.outputTokens,
          cache_read_tokens: usage.cacheReadTokens,
          cache_write_tokens: usage.cacheWriteTokens,
          cost_usd: usage.costUsd,
        },
      }),
    );
    return;
  }
  out.data(['', `## Insights (${answer.model})`, ...insights.split('\n').map((line) => (line.trim() === '' ? '' : `  ${line}`))].join('\n'));
}

/** The project's agent settings when the backend is the project's own, with --model over agent.model. */
async function textModelFor(agent: Config['agent'], options: PostmortemCommandOptions): Promise<TextModel> {
  const { chooseTextModelType, createTextModel } = await import('../../agents/text-model.js');
  const type = chooseTextModelType(options.agent, agent.type);
  // Another backend's model name (a tuner project's, or an api model given to claude-code) would be wrong here.
  const agentConfig: Config['agent'] = { ...agent, model: type === agent.type ? agent.model : null };
  if (options.model !== undefined) agentConfig.model = options.model;
  return createTextModel(type, agentConfig, options.env ?? process.env);
}

async function fullConfig(projectDir: string): Promise<Config> {
  const { loadConfig } = await import('../../config/load.js');
  const loaded = loadConfig(projectDir);
  if (!loaded.ok) throw new ConfigError(loaded.errors);
  return loaded.config;
}
