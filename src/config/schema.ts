import { z } from 'zod';

/**
 * The one definition of `.crucible/config.yaml`: its keys, types, defaults and documentation.
 * `WrittenConfig` is what a user writes, `Config` what crucible works with after defaults, and
 * `schema/crucible.schema.json` is generated from this file (`npm run schema`).
 */

const nonEmptyString = z.string().trim().min(1, 'must not be empty');

const pathList = z.array(nonEmptyString);

export const agentTypes = ['claude-code', 'api', 'command', 'tuner'] as const;
export type AgentType = (typeof agentTypes)[number];

export const directions = ['minimize', 'maximize'] as const;
export type Direction = (typeof directions)[number];

const filesSchema = z
  .object({
    editable: pathList
      .min(1, 'must list at least one file')
      .describe('Files the agent may change (paths relative to the project root; a trailing "/" or a glob matches many).'),
    readonly: pathList.default([]).describe('Files the agent may read but not change.'),
    hidden: pathList
      .default([])
      .describe('Files the agent can neither see nor change (the evaluation harness); present when the experiment runs.'),
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
      .describe('Environment variables passed to experiments although their names look like secrets (API keys, tokens).'),
  })
  .strict()
  .describe('How to run one experiment and read its metric.');

const metricSchema = z
  .object({
    name: nonEmptyString.describe('The key of the "name: value" line the eval command prints.'),
    direction: z.enum(directions).describe('"minimize" (lower is better) or "maximize" (higher is better).'),
  })
  .strict();

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
  })
  .strict()
  .default({ timeout_seconds: 600, max_retries: 3, max_iterations: null });

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
    tuner: { seed: 0, max_changes: 2 },
    context_window: { include_history: true, history_limit: 20, include_best: true },
  });

const gitSchema = z
  .object({
    branch_prefix: nonEmptyString
      .regex(/^[A-Za-z0-9._\-/]+$/, 'may hold only letters, digits, ".", "_", "-" and "/"')
      .default('crucible')
      .describe('Runs live on branch <branch_prefix>/<tag>.'),
    tag_failed: z.boolean().default(true).describe('Tag each discarded or crashed commit failed/<tag>/<n> before resetting.'),
  })
  .strict()
  .default({ branch_prefix: 'crucible', tag_failed: true });

export const configSchema = z
  .object({
    $schema: z.string().optional().describe('Path or URL of the JSON Schema, for editors.'),
    name: nonEmptyString.describe('Experiment name.'),
    description: z.string().default('').describe('Human-readable description.'),
    files: filesSchema,
    commands: commandsSchema,
    metric: metricSchema.describe('The single number that says how good a trial is.'),
    constraints: constraintsSchema.describe('Limits of experiments and of the run.'),
    agent: agentSchema.describe('Who proposes changes, and what they are told.'),
    git: gitSchema.describe('Branch and tag names.'),
  })
  .strict()
  .describe('autocrucible experiment configuration (.crucible/config.yaml)');

export type WrittenConfig = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type Objective = Config['metric'];
