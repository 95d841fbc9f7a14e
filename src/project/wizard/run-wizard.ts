/**
 * `crucible wizard` as a library: a description in, a validated project out. Two model calls
 * (analyse, then generate), the user's answers in between, every check before the first write,
 * and `crucible validate` on the result. Never prints: progress goes through `onProgress`, and
 * the questions through the injected `ask`.
 */
import path from 'node:path';
import type { TextModel } from '../../agents/text-model.js';
import type { AgentUsage } from '../../agents/types.js';
import { CrucibleError } from '../../errors.js';
import { validateProject, type Check } from '../validate-project.js';
import { analysisSchema, ANALYZE_SYSTEM_PROMPT, buildAnalyzePrompt, type Analysis, type Question } from './analysis.js';
import { detectEnvironment, formatEnvironment, type DetectedEnvironment } from './environment.js';
import { buildGeneratePrompt, buildGenerateSystemPrompt, generationSchema } from './generation.js';
import { readHarnessReference } from './harness-reference.js';
import { addUsage } from '../../agents/usage.js';
import { completeJson } from './model-json.js';
import { planProjectFiles } from './project-files.js';
import { defaultDecisions, type Decision } from './questions.js';
import { checkDestination, writeProjectFiles } from './write-project.js';

export interface WizardOptions {
  dest: string;
  description: string;
  /** YAML of the agent section the generated config carries (renderAgentSection). */
  agentSection: string;
}

export type WizardStep = 'detecting' | 'analyzing' | 'generating' | 'writing' | 'validating';

export interface WizardDeps {
  model: TextModel;
  /** Answers the open questions; without it every question takes its recommended choice. */
  ask?: (questions: readonly Question[]) => Promise<Decision[]>;
  /** The machine; detected when absent. */
  environment?: DetectedEnvironment;
  /** The environment validate runs the experiment with (default process.env). */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (step: WizardStep) => void;
  onCheck?: (check: Check) => void;
}

export interface WizardResult {
  /** Absolute path of the new project. */
  dest: string;
  files: string[];
  summary: string;
  analysis: Analysis;
  decisions: Decision[];
  checks: Check[];
  /** Every validate check passed. */
  passed: boolean;
  usage: AgentUsage;
}

/** The generated project may be long: room for it (Anthropic's API wants the number said). */
const GENERATE_MAX_OUTPUT_TOKENS = 32_000;
const ANALYZE_MAX_OUTPUT_TOKENS = 4_000;

export async function runWizard(options: WizardOptions, deps: WizardDeps): Promise<WizardResult> {
  // Refused before any model call: nothing to pay for when the folder is wrong.
  checkDestination(options.dest);
  const signal = deps.signal ?? new AbortController().signal;
  const progress = deps.onProgress ?? (() => undefined);

  progress('detecting');
  const environment = deps.environment ?? (await detectEnvironment({ env: deps.env }));
  const environmentText = formatEnvironment(environment);

  progress('analyzing');
  const analyzed = await completeJson(deps.model, {
    system: ANALYZE_SYSTEM_PROMPT,
    user: buildAnalyzePrompt(options.description, environmentText),
    schema: analysisSchema,
    what: 'the analysis of the description',
    signal,
    options: { maxOutputTokens: ANALYZE_MAX_OUTPUT_TOKENS },
  });
  const analysis = analyzed.value;
  const decisions = analysis.uncertain.length === 0 ? [] : deps.ask ? await deps.ask(analysis.uncertain) : defaultDecisions(analysis.uncertain);

  progress('generating');
  const generated = await completeJson(deps.model, {
    system: buildGenerateSystemPrompt(readHarnessReference()),
    user: buildGeneratePrompt({ description: options.description, analysis, decisions, environmentText, agentSection: options.agentSection }),
    schema: generationSchema,
    what: 'the project files',
    signal,
    options: { maxOutputTokens: GENERATE_MAX_OUTPUT_TOKENS },
  });
  const usage = addUsage(analyzed.usage, generated.usage);

  const plan = planProjectFiles(generated.value.files, analysis);
  if (plan.problems.length > 0) {
    throw new CrucibleError('CRUCIBLE_FAILURE', `the generated project was refused, nothing was written: ${plan.problems[0]}`, {
      hints: [...plan.problems.slice(1, 8).map((problem) => `also: ${problem}`), 'Run the wizard again (the model may do better), or try another model with --model.'],
    });
  }

  progress('writing');
  const files = writeProjectFiles(options.dest, plan.files);
  progress('validating');
  const checks = await validateProject(options.dest, { env: deps.env, ...(deps.onCheck ? { onCheck: deps.onCheck } : {}) });
  return {
    dest: path.resolve(options.dest),
    files,
    summary: generated.value.summary,
    analysis,
    decisions,
    checks,
    passed: !checks.some((check) => check.status === 'fail'),
    usage,
  };
}
