/**
 * The wizard's first question to the model: what the user's description means for a crucible
 * project (name, metric, editable files, language, time limit, the approach the harness must
 * enforce) and which choices it leaves open.
 */
import { z } from 'zod';
import { directions } from '../../config/schema.js';

const choiceSchema = z.object({
  label: z.string().trim().min(1),
  explanation: z.string().trim().default(''),
});

const questionSchema = z.object({
  param: z.string().trim().min(1),
  question: z.string().trim().min(1),
  choices: z.array(choiceSchema),
});

export const analysisSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .transform((name) => name.slice(0, 60)),
  metric: z.object({
    name: z.string().trim().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'letters, digits, "_" and "." only'),
    direction: z.enum(directions),
  }),
  editable_files: z.array(z.string().trim().min(1)).min(1),
  language: z.enum(['node', 'python']),
  timeout_seconds: z.number().positive(),
  architecture_guards: z.array(z.string().trim().min(1)).default([]),
  // Lenient on counts: a question without a real choice is dropped, extra ones are cut.
  uncertain: z
    .array(questionSchema)
    .default([])
    .transform((questions) =>
      questions
        .filter((q) => q.choices.length >= 2)
        .slice(0, 3)
        .map((q) => ({ ...q, choices: q.choices.slice(0, 4) })),
    ),
});

export type Analysis = z.output<typeof analysisSchema>;
export type Question = Analysis['uncertain'][number];

export const ANALYZE_SYSTEM_PROMPT = `You help set up an experiment for crucible, a tool that runs an AI coding agent in a loop: each trial the agent changes the editable files, crucible runs a fixed evaluation harness that the agent cannot see, reads ONE metric from its output, and keeps the change only if the metric improved.

Read the user's description and the detected runtime environment. Answer with ONLY a JSON object, no prose and no code fence, of this shape:
{
  "name": "short-kebab-case-name",
  "metric": { "name": "score", "direction": "maximize" },
  "editable_files": ["solution.js"],
  "language": "node",
  "timeout_seconds": 120,
  "architecture_guards": ["The solution must use a neural network: the harness checks that it returns a model with trained weight arrays"],
  "uncertain": [
    { "param": "board_size", "question": "Which board size?", "choices": [ { "label": "9x9", "explanation": "fast trials, fits a CPU" }, { "label": "15x15", "explanation": "the standard board, much slower" } ] }
  ]
}

Rules:
- metric.name: letters, digits, "_" and "." only; metric.direction: "maximize" or "minimize".
- language: "node" (JavaScript ES modules, Node's built-in modules only) unless the task needs Python libraries (numpy, torch, ...) and Python is available.
- editable_files: the few files the agent may change, paths relative to the project root, never under .crucible/; the evaluation harness is never editable.
- timeout_seconds: a few times what one experiment should take on this machine; keep experiments short (seconds to a few minutes).
- architecture_guards: when the description requires an approach (an algorithm, a kind of model, a library that must or must not be used), one short sentence per rule the hidden harness must enforce, saying how it can check it; [] when the description requires none.
- Respect the environment: no CUDA code without an NVIDIA GPU, CPU-sized defaults without one, no Python packages that are not installed unless the experiment can do without them.
- uncertain: at most 3 choices that matter and that the description leaves open (problem size, data, approach, a dependency the environment may lack), each with 2 to 4 choices, the one you recommend FIRST, each with a one-line explanation. [] when nothing important is open.`;

/** The user message: the description, then the environment. */
export function buildAnalyzePrompt(description: string, environmentText: string): string {
  return `${description.trim()}\n\n${environmentText}`;
}
