/**
 * The wizard's second question to the model: the whole project, as `{ files, summary }`, written
 * to the analysis and the user's answers and following crucible's own setup guide.
 */
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import type { Analysis } from './analysis.js';
import type { Decision } from './questions.js';

export const MAX_FILES = 40;
const MAX_FILE_CHARS = 200_000;

export const generationSchema = z.object({
  files: z
    .record(z.string(), z.string().max(MAX_FILE_CHARS, `a file may hold at most ${MAX_FILE_CHARS} characters`))
    .refine((files) => Object.keys(files).length > 0, 'no files')
    .refine((files) => Object.keys(files).length <= MAX_FILES, `at most ${MAX_FILES} files`),
  summary: z.string().trim().default(''),
});

export type Generation = z.output<typeof generationSchema>;

/** The system prompt: the answer's shape, the files wanted, the config format, then the setup guide. */
export function buildGenerateSystemPrompt(reference: string): string {
  return `You write a complete, working crucible experiment project. crucible runs an AI coding agent in a loop: each trial the agent changes the editable files, crucible runs the experiment, reads ONE metric from the eval command's output, and keeps the change only if the metric improved.

Answer with ONLY a JSON object, no prose and no code fence:
{ "files": { "<path relative to the project root>": "<the whole content of the file>" }, "summary": "<one line: what is optimised and how it is measured>" }

Write these files:
- .crucible/config.yaml: the config, in the format below.
- .crucible/program.md: the agent's instructions.
- The editable baseline file(s) of the analysis: simple, correct, deliberately unoptimised.
- The hidden evaluation harness (evaluate.js for Node, evaluate.py for Python), listed under files.hidden, enforcing every architecture guard of the analysis.
- README.md: what the experiment optimises, how the harness measures it, and how to run it (crucible validate, then crucible run --tag run1).
- .gitignore: run.log, results.tsv, .crucible/runs/ and whatever the experiment writes.
- For Node: package.json with "type": "module" and no dependencies (Node's built-in modules only). For Python: requirements.txt when packages are needed.

Rules:
- Every file complete and real: no placeholders, no "...", no TODO, no "your code here", nothing left for the user to fill in. As written, the project must pass \`crucible validate\`: the run command runs the harness on the baseline, and the eval command prints "<metric name>: <number>".
- Paths are relative, inside the project, with "/" separators; nothing under .git/.
- One experiment must finish well within timeout_seconds on the detected machine; nothing is downloaded while it runs (generate data from a fixed seed in the harness).
- Code that fits the detected environment (no CUDA without an NVIDIA GPU; Python only where Python is).

Config format (.crucible/config.yaml); these keys only:
name: my-experiment
description: one line
files:
  editable: [solution.js]        # what the agent may change
  readonly: [package.json]       # what it may read but not change
  hidden: [evaluate.js]          # the harness: invisible to the agent
commands:
  run: node evaluate.js          # one experiment, in the project folder
  eval: cat run.log              # prints "score: <n>"
metric:
  name: score
  direction: maximize            # or minimize
constraints:
  timeout_seconds: 120           # one experiment (run and eval)
  max_retries: 8                 # failed trials in a row before the run stops

## Crucible reference

The guide crucible gives to anyone who sets up a project by hand. Follow its rules for the metric, the architecture guards, the harness, the baseline, the instructions and the config; the questions it says to ask have been answered in the user's message.

${reference}`;
}

export interface GeneratePromptInput {
  description: string;
  analysis: Analysis;
  decisions: readonly Decision[];
  environmentText: string;
  /** YAML of the agent section the config must carry, so the project uses the model the user chose. */
  agentSection: string;
}

/** The user message: the description, the environment, the analysis to follow, the user's answers. */
export function buildGeneratePrompt(input: GeneratePromptInput): string {
  const { analysis } = input;
  const inferred = {
    name: analysis.name,
    metric: analysis.metric,
    editable_files: analysis.editable_files,
    language: analysis.language,
    timeout_seconds: analysis.timeout_seconds,
    architecture_guards: analysis.architecture_guards,
  };
  const lines = [`Description: ${input.description.trim()}`, '', input.environmentText, '', 'Analysis (follow it):', JSON.stringify(inferred, null, 2)];
  if (input.decisions.length > 0) {
    lines.push('', "The user's decisions:", ...input.decisions.map((d) => `- ${d.question} ${d.answer}`));
  }
  lines.push('', 'End .crucible/config.yaml with this agent section, as it is:', input.agentSection);
  return lines.join('\n');
}

/** The agent section for the generated config: the backend and model the wizard itself used. */
export function renderAgentSection(agent: Pick<Config['agent'], 'type' | 'model' | 'provider' | 'base_url' | 'api_key_env'>): string {
  const lines = ['agent:', `  type: ${agent.type}`];
  if (agent.type === 'api') lines.push(`  provider: ${agent.provider}`);
  if (agent.model !== null) lines.push(`  model: ${JSON.stringify(agent.model)}`);
  if (agent.type === 'api' && agent.base_url !== null) lines.push(`  base_url: ${JSON.stringify(agent.base_url)}`);
  if (agent.type === 'api' && agent.api_key_env !== null) lines.push(`  api_key_env: ${agent.api_key_env}`);
  return lines.join('\n');
}
