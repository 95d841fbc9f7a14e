import { z } from 'zod';
import { agentTypes, directions, providers } from './constants.js';
import { aggregates } from '../core/statistics.js';
import type { MinImprovement } from '../core/min-improvement.js';

export { agentTypes, directions, providers, type AgentType, type Direction, type Provider } from './constants.js';

/**
 * The one definition of `.crucible/config.yaml`: its keys, types, defaults and documentation.
 * `WrittenConfig` is what a user writes, `Config` what crucible works with after defaults, and
 * `schema/crucible.schema.json` is generated from this file (`npm run schema`).
 */

const nonEmptyString = z.string().trim().min(1, 'must not be empty');

const pathList = z.array(nonEmptyString);


/** "90", 90, "90s", "45m", "8h", "1d" → seconds. */
const duration = z.union([
  z.number().positive('must be greater than 0'),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?\s*(s|m|h|d)?$/i, 'must be a number of seconds or a duration like "45m", "8h", "1d"')
    .transform((text) => {
      const match = /^(\d+(?:\.\d+)?)\s*([smhd])?$/i.exec(text)!;
      const unit = (match[2] ?? 's').toLowerCase();
      return Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'];
    }),
]);

const priceSchema = z
  .object({
    input: z.number().min(0).describe('US dollars per million input tokens.'),
    output: z.number().min(0).describe('US dollars per million output tokens.'),
    cache_read: z.number().min(0).optional().describe('US dollars per million cache-read tokens (default: 10% of input).'),
    cache_write: z.number().min(0).optional().describe('US dollars per million cache-write tokens (default: 125% of input).'),
  })
  .strict();

const filesSchema = z
  .object({
    editable: pathList
      .min(1, 'must list at least one file')
      .describe('Files the agent may change (paths relative to the project root; a trailing "/" or a glob matches many).'),
    readonly: pathList.default([]).describe('Files the agent may read but not change.'),
    hidden: pathList
      .default([])
      .describe('Files the agent can neither see nor change (the evaluation harness); present when the experiment runs.'),
    shared: pathList
      .default(['.venv', 'node_modules'])
      .describe('Untracked things every experiment slot needs (data sets, .venv, node_modules, weights): linked into each slot from the project when parallel.workers > 1.'),
  })
  .strict()
  .describe('Which files the agent may touch.');

const commandsSchema = z
  .object({
    run: nonEmptyString.describe('Shell command that runs one experiment, in the project folder.'),
    eval: nonEmptyString.describe('Shell command whose standard output holds "metric_name: value" lines.'),
    setup: nonEmptyString
      .nullable()
      .default(null)
      .describe('Shell command run once when a run is created (not on resume).'),
    pass_env: z
      .array(nonEmptyString)
      .default([])
      .describe(
        'Environment variables passed to experiments besides the built-in harmless ones (PATH, HOME, locale, device selection, thread counts, ...): names, or "PREFIX_*" for every name that starts with PREFIX_. Passed as they are, credentials included.',
      ),
  })
  .strict()
  .describe('How to run one experiment and read its metric.');

/** 0.01 → absolute; "2%" → 2 % of the incumbent's metric. */
const minImprovementSchema = z.union([
  z
    .number()
    .min(0, 'must be 0 or more')
    .transform((value): MinImprovement => ({ kind: 'absolute', value })),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?\s*%$/, 'must be a number (absolute) or a percentage like "2%"')
    .transform((text): MinImprovement => ({ kind: 'percent', value: Number(text.replace('%', '').trim()) })),
], { error: 'must be a number of 0 or more (absolute) or a percentage like "2%"' });

const metricSchema = z
  .object({
    name: nonEmptyString.describe('The key of the "name: value" line the eval command prints.'),
    direction: z.enum(directions).describe('"minimize" (lower is better) or "maximize" (higher is better).'),
    min_improvement: minImprovementSchema
      .prefault(0)
      .describe('Smallest gain that counts as better: a number in metric units, or a percentage of the incumbent like "2%". A change must beat it (significantly, when confirming) to be kept.'),
  })
  .strict();

const evaluationSchema = z
  .object({
    baseline_repeats: z
      .int()
      .min(1, 'must be 1 or more')
      .max(100)
      .nullable()
      .default(null)
      .describe('Runs of the unmodified code at the start: their spread is the noise floor. null: 3 when one run takes under a minute, else 1.'),
    repeats: z.int().min(1, 'must be 1 or more').max(100).default(1).describe('Runs of each candidate for its first measurement; its metric is their aggregate.'),
    aggregate: z.enum(aggregates).default('median').describe('How repeated runs make one metric: median, mean, min or max.'),
    confirm: z
      .boolean()
      .nullable()
      .default(null)
      .describe('Measure a candidate that beats the incumbent again, interleaved with the incumbent, until the keep rule decides. null: on unless the noise floor is measured as exactly 0.'),
    confidence: z
      .number()
      .gt(0.5, 'must be above 0.5')
      .lt(1, 'must be below 1')
      .default(0.95)
      .describe('Confidence that a kept change really is better: 0.95 keeps at most 5% of changes that are not (docs/decisions.md).'),
    max_measurements: z
      .int()
      .min(1, 'must be 1 or more')
      .max(100)
      .default(8)
      .describe('Most measurements of one candidate: the first measurement counts as one whatever its repeats, then one per confirm run (the incumbent runs once per confirm run). Not significant by then: discarded.'),
  })
  .strict()
  .default({ baseline_repeats: null, repeats: 1, aggregate: 'median', confirm: null, confidence: 0.95, max_measurements: 8 });

const constraintsSchema = z
  .object({
    timeout_seconds: z
      .number()
      .positive('must be greater than 0')
      .default(600)
      .describe('Time limit of one experiment (run and eval commands together); its whole process group is killed after it.'),
    max_retries: z
      .int()
      .min(0, 'must be 0 or more')
      .default(3)
      .describe('Consecutive failed trials (discard, crash, skip, violation or agent error) after which the run stops.'),
    max_iterations: z
      .int()
      .positive('must be greater than 0')
      .nullable()
      .default(null)
      .describe('Trials per `crucible run` invocation; null runs until stopped. `run --max-iterations` overrides it.'),
    max_cost_usd: z.number().positive('must be greater than 0').nullable().default(null).describe('Stop the run once the agent has cost this much in total (all sessions).'),
    max_cost_per_trial_usd: z
      .number()
      .positive('must be greater than 0')
      .nullable()
      .default(null)
      .describe('Stop the run when one trial\'s agent costs more than this (the trial is still measured).'),
    max_wall_time: duration
      .nullable()
      .default(null)
      .describe('Stop starting trials after this long in one `crucible run` session: seconds, or "45m", "8h", "1d".'),
  })
  .strict()
  .default({ timeout_seconds: 600, max_retries: 3, max_iterations: null, max_cost_usd: null, max_cost_per_trial_usd: null, max_wall_time: null });

const contextWindowSchema = z
  .object({
    include_history: z.boolean().default(true).describe('Show past trials in the prompt.'),
    history_limit: z.int().min(0).default(20).describe('Most recent trials listed in the prompt.'),
    include_best: z.boolean().default(true).describe('Show the best metric so far in the prompt.'),
  })
  .strict()
  .default({ include_history: true, history_limit: 20, include_best: true });

const tunerSchema = z
  .object({
    seed: z.int().default(0).describe('Seed of the tuner\'s random choices: the same seed and history give the same proposals.'),
    max_changes: z
      .int()
      .min(1)
      .default(2)
      .describe('Most constants the tuner changes in one trial.'),
  })
  .strict()
  .default({ seed: 0, max_changes: 2 });

const agentSchema = z
  .object({
    type: z.enum(agentTypes).default('claude-code').describe('Agent backend: claude-code, api, command or tuner.'),
    instructions: nonEmptyString
      .default('program.md')
      .describe('Instructions file for the agent, looked up in .crucible/ and then the project root.'),
    system_prompt: nonEmptyString
      .nullable()
      .default(null)
      .describe('Custom system prompt: a file in .crucible/ (or the project root), or the text itself when it spans lines.'),
    timeout_seconds: z
      .number()
      .positive('must be greater than 0')
      .default(600)
      .describe('Time limit of one agent proposal; `run --timeout` overrides it.'),
    command: nonEmptyString
      .nullable()
      .default(null)
      .describe('For type "command": the shell command run as the agent, in its workspace, with the prompt on stdin.'),
    model: nonEmptyString.nullable().default(null).describe('Model name for claude-code and api (e.g. "claude-sonnet-4-5", "gpt-5", "qwen3:8b"); `run --model` overrides it.'),
    provider: z.enum(providers).default('anthropic').describe('For type "api": anthropic, openai or openai-compatible (Ollama, vLLM, llama.cpp, OpenRouter, ...).'),
    base_url: nonEmptyString.nullable().default(null).describe('For type "api": the endpoint, including /v1 where the provider\'s API has it (e.g. http://localhost:11434/v1).'),
    api_key_env: nonEmptyString
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .nullable()
      .default(null)
      .describe('For type "api": the name of the environment variable holding the API key (default: ANTHROPIC_API_KEY or OPENAI_API_KEY).'),
    max_steps: z.int().min(1).default(30).describe('For type "api": most model calls (tool steps) in one trial.'),
    pricing: z
      .record(z.string(), priceSchema)
      .default({})
      .describe('Prices per model, overriding the built-in table: { "<model>": { input, output, cache_read?, cache_write? } } in US dollars per million tokens.'),
    tuner: tunerSchema.describe('For type "tuner": the offline optimiser of marked numeric constants.'),
    context_window: contextWindowSchema.describe('What the prompt shows of the run so far.'),
  })
  .strict()
  .default({
    type: 'claude-code',
    instructions: 'program.md',
    system_prompt: null,
    timeout_seconds: 600,
    command: null,
    model: null,
    provider: 'anthropic',
    base_url: null,
    api_key_env: null,
    max_steps: 30,
    pricing: {},
    tuner: { seed: 0, max_changes: 2 },
    context_window: { include_history: true, history_limit: 20, include_best: true },
  });

const gitSchema = z
  .object({
    branch_prefix: nonEmptyString
      .regex(/^[A-Za-z0-9._\-/]+$/, 'may hold only letters, digits, ".", "_", "-" and "/"')
      .default('crucible')
      .describe('Runs live on branch <branch_prefix>/<tag>.'),
    tag_failed: z.boolean().default(true).describe('Tag each discarded or crashed commit failed/<tag>/<n> as the run branch goes back.'),
  })
  .strict()
  .default({ branch_prefix: 'crucible', tag_failed: true });

const sandboxObjectSchema = z
  .object({
    enabled: z
      .union([z.boolean(), z.literal('auto')])
      .default('auto')
      .describe('"auto": on where bubblewrap works, else a one-line warning and no sandbox; true: required (a run refuses to start without it); false: off.'),
    network: z.boolean().default(false).describe('Experiments may use the network.'),
    agent_network: z.boolean().default(true).describe('A command agent may use the network (an LLM command-line tool must reach its API).'),
    writable: pathList
      .default([])
      .describe('More folders experiments may write besides the project folder, e.g. a cache ("~/.cache/torch"); relative paths are relative to the project.'),
    agent_writable: pathList
      .default([])
      .describe('Folders a command agent may write besides its workspace, e.g. where its tool keeps its login ("~/.claude"); relative paths are relative to the project.'),
  })
  .strict();

const sandboxDefaults = { enabled: 'auto' as const, network: false, agent_network: true, writable: [], agent_writable: [] };

// `sandbox: true`, `false` and `auto` are short for `sandbox: { enabled: ... }`.
const sandboxSchema = z
  .union([z.union([z.boolean(), z.literal('auto')]).transform((enabled) => ({ ...sandboxDefaults, enabled })), sandboxObjectSchema], {
    error: 'must be true, false, auto, or a mapping with enabled (auto, true, false), network, agent_network, writable, agent_writable',
  })
  .default(sandboxDefaults)
  .describe('Runs experiments and command agents under bubblewrap (Linux): no network, writes only to their own folders, their own process namespace.');

const gpuIdSchema = z.union([z.int().min(0), z.string().regex(/^[A-Za-z0-9:_-]+$/, 'must be a GPU index or UUID')]).transform(String);

const parallelSchema = z
  .object({
    workers: z.int().min(1).max(256).default(1).describe('Experiments at once (slots). 1 runs in the project folder; more run each in its own worktree under .crucible/slots/. `run --workers` overrides it.'),
    agents: z
      .int()
      .min(1)
      .max(256)
      .nullable()
      .default(null)
      .describe('Trials in flight at once (proposals and experiments), each proposal in its own agent worktree. Default: workers + 1 (the agent prepares the next change while an experiment runs), up to 2 × workers while agent turns are long against the experiments; workers for the tuner.'),
    gpus: z
      .union([z.literal('auto'), z.array(gpuIdSchema)])
      .nullable()
      .default(null)
      .describe('GPUs the slots share out: "auto" (from nvidia-smi -L) or a list of ids; each slot gets CUDA_VISIBLE_DEVICES with its own. Default: none set.'),
    gpus_per_trial: z.int().min(1).default(1).describe('GPUs each slot gets when parallel.gpus is set.'),
  })
  .strict()
  .default({ workers: 1, agents: null, gpus: null, gpus_per_trial: 1 });

// An sbatch option that would take over what crucible sets itself (the job's name, folder, output,
// time limit, environment, requeue) would break the job's bookkeeping: refused, with its key named.
const reservedSbatch = /^(-J|--job-name|-D|--chdir|-o|--output|-e|--error|-t|--time|--export|--requeue|--no-requeue|--parsable|--wrap|-W|--wait)(=|$)/;

const slurmSchema = z
  .object({
    sbatch_args: z
      .array(nonEmptyString.refine((arg) => !reservedSbatch.test(arg), { message: 'is set by crucible itself (job name, folder, output, time, environment, requeue)' }))
      .default([])
      .describe('Options passed to sbatch as they are, one per entry: "--partition=gpu", "--gres=gpu:1", "--account=lab", "--qos=normal", "--constraint=a100".'),
    poll_seconds: z.number().min(0.1, 'must be at least 0.1').max(300).default(2).describe('How often the jobs in flight are polled with squeue.'),
    setup: z
      .array(z.string())
      .default([])
      .describe('Shell lines the job runs before the experiment, in the slot folder: "module load cuda/12.4", "source ~/miniconda3/bin/activate lab".'),
    queue_timeout: duration
      .nullable()
      .default(null)
      .describe('A job still waiting in the queue after this long is cancelled and recorded as an infrastructure failure (not the change\'s crash): seconds, or "30m", "2h". Default: wait.'),
  })
  .strict();

const slurmDefaults = { sbatch_args: [], poll_seconds: 2, setup: [], queue_timeout: null };
const executorDefaults = { type: 'local' as const, slurm: slurmDefaults };

// `executor: slurm` is short for `executor: { type: slurm }`.
const executorSchema = z
  .union(
    [
      z.enum(['local', 'slurm']).transform((type) => ({ type, slurm: slurmDefaults })),
      z.object({ type: z.enum(['local', 'slurm']).default('local'), slurm: slurmSchema.default(slurmDefaults) }).strict(),
    ],
    { error: 'must be local, slurm, or a mapping with type (local, slurm) and slurm (sbatch_args, poll_seconds, setup, queue_timeout)' },
  )
  .default(executorDefaults)
  .describe('Where experiments run: "local" (this machine) or "slurm" (one batch job per experiment; parallel.workers = jobs in flight).');
// --- search.* (issue 9, strategies; src/loop/strategy.ts reads these) ---
const searchSchema = z
  .object({
    strategy: z
      .enum(['greedy', 'restart', 'beam', 'tree'])
      .default('greedy')
      .describe('Which node the next proposal starts from: greedy (the best), restart (back after a plateau), beam (W branches, each with its own incumbent), tree (Monte Carlo tree search over the subtrees of kept nodes). Beyond greedy a trial is kept when it beats the node it was measured on; the run branch always points at the best node.'),
    plateau: z.int().min(1).default(5).describe('restart: measured trials without a keep before going back.'),
    restart_from: z.enum(['baseline', 'best']).default('baseline').describe('restart: the node to go back to.'),
    beam_width: z.int().min(1).max(64).default(3).describe('beam: how many branches.'),
    prune_after: z.int().min(1).default(6).describe('tree: a node whose last K measured children all failed is not expanded again (the baseline always is); a subtree loses half its value every K trials without a gain.'),
    exploration: z.number().min(0).default(0.5).describe('tree: weight of the exploration term (0: always the best node that is not pruned).'),
    stop_when: z
      .object({
        target: z.number().nullable().default(null).describe('Stop once the best metric reaches this value (in the metric\'s direction).'),
        no_improvement: z.int().min(1).nullable().default(null).describe('Stop after this many measured trials without a new best.'),
      })
      .strict()
      .default({ target: null, no_improvement: null })
      .describe('When the search is over, besides the budgets.'),
  })
  .strict()
  .default({ strategy: 'greedy', plateau: 5, restart_from: 'baseline', beam_width: 3, prune_after: 6, exploration: 0.5, stop_when: { target: null, no_improvement: null } });
// --- end search.* ---

export const configSchema = z
  .object({
    $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors.'),
    name: nonEmptyString.describe('Experiment name.'),
    description: z.string().default('').describe('Human-readable description.'),
    files: filesSchema,
    commands: commandsSchema,
    metric: metricSchema.describe('The single number that says how good a trial is.'),
    evaluation: evaluationSchema.describe('Measuring under noise: the noise floor, repeats, and confirming a change before it is kept.'),
    constraints: constraintsSchema.describe('Limits of experiments and of the run.'),
    agent: agentSchema.describe('Who proposes changes, and what they are told.'),
    git: gitSchema.describe('Branch and tag names.'),
    sandbox: sandboxSchema,
    parallel: parallelSchema.describe('Trials in parallel: experiment slots, proposals in flight, GPUs per slot.'),
    executor: executorSchema,
    search: searchSchema.describe('How the search moves through the tree of trials, and when it is over.'),
  })
  .strict()
  .describe('autocrucible experiment configuration (.crucible/config.yaml)');

export type WrittenConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type SlurmSettings = Config['executor']['slurm'];
/** What a trial is judged by; `metric.min_improvement` is the keep rule's business, not the prompt's. */
export type Objective = Pick<Config['metric'], 'name' | 'direction'>;
