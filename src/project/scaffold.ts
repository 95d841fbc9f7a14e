/**
 * The files of an empty project (`crucible new DEST` without an example): a Node experiment that
 * already works end to end, for the user to replace piece by piece.
 */

export interface ProjectFile {
  /** Path relative to the project root, with "/" separators. */
  path: string;
  content: string;
}

/** The scaffold's files for an experiment called `name`. Pure: nothing is written. */
export function renderScaffoldFiles(name: string): ProjectFile[] {
  return [
    { path: '.crucible/config.yaml', content: renderConfig(name) },
    { path: '.crucible/program.md', content: PROGRAM },
    { path: 'solution.js', content: SOLUTION },
    { path: 'evaluate.js', content: EVALUATE },
    // Tells Node that the .js files are ES modules, whatever Node 20 release runs them.
    { path: 'package.json', content: `${JSON.stringify({ name: packageName(name), private: true, type: 'module' }, null, 2)}\n` },
    { path: '.gitignore', content: DEFAULT_GITIGNORE },
  ];
}

// Required keys are live; every optional key is shown commented out with its default, so the file
// doubles as the config reference. A JSON string is a valid YAML double-quoted scalar.
function renderConfig(name: string): string {
  return `# crucible experiment configuration. Paths are relative to the project root.

name: ${JSON.stringify(name)}
# description: ""                     # shown in status and reports

files:
  editable:                           # what the agent may change
    - solution.js
  # readonly: []                      # what the agent may read but not change
  hidden:                             # invisible to the agent, present when the experiment runs
    - evaluate.js
  # shared: [.venv, node_modules]     # untracked things every experiment slot needs, linked into each

commands:
  run: node evaluate.js > run.log 2>&1   # one experiment, run in the project folder
  eval: cat run.log                      # its standard output holds "score: <n>"
  # setup: null                       # run once when a run is created, e.g. "npm ci"
  # pass_env: []                      # more variables experiments may see: names, or PREFIX_* globs

metric:
  name: score                         # the key of the "score: <n>" line
  direction: maximize                 # or minimize
  # min_improvement: 0                # smallest gain that counts: a number, or a share like "2%"

# evaluation:                         # measuring under noise (see the README, Noise)
#   baseline_repeats: null            # runs of the unchanged code; null: 3 if one takes under a minute, else 1
#   repeats: 1                        # runs of each change's first measurement
#   aggregate: median                 # median, mean, min or max of repeated runs
#   confirm: null                     # measure a winner again beside the incumbent; null: unless the noise is 0
#   confidence: 0.95                  # how sure a kept change is really better
#   max_measurements: 8               # most measurements of one change (its first counts as one, repeats or not)

# constraints:
#   timeout_seconds: 600              # one experiment (run and eval) is killed after this
#   max_retries: 3                    # consecutive failed trials before the run stops
#   max_iterations: null              # trials per \`crucible run\`; null runs until stopped
#   max_cost_usd: null                # stop once the agent has cost this much in total
#   max_cost_per_trial_usd: null      # stop after a trial whose agent cost more than this
#   max_wall_time: null               # stop starting trials after this long: seconds, "45m", "8h"

# agent:
#   type: claude-code                 # claude-code, api, command or tuner
#   instructions: program.md          # looked up in .crucible/, then the project root
#   system_prompt: null               # a file, or the text itself when it spans lines
#   timeout_seconds: 600              # one proposal of the agent
#   command: null                     # for type command: the agent's shell command
#   model: null                       # for claude-code and api, e.g. claude-sonnet-4-5
#   provider: anthropic               # for api: anthropic, openai or openai-compatible
#   base_url: null                    # for api: e.g. http://localhost:11434/v1 (Ollama)
#   api_key_env: null                 # for api: the variable holding the key
#   max_steps: 30                     # for api: model calls per trial
#   pricing: {}                       # $ per million tokens per model, over the built-in table
#   tuner:
#     seed: 0                         # same seed and history, same proposals
#     max_changes: 2                  # constants changed per trial
#   context_window:
#     include_history: true           # show past trials in the prompt
#     history_limit: 20               # most recent trials shown
#     include_best: true              # show the best metric so far

# git:
#   branch_prefix: crucible           # runs live on branch <branch_prefix>/<tag>
#   tag_failed: true                  # tag discarded and crashed commits before resetting

# sandbox:                            # Linux, with bubblewrap installed
#   enabled: auto                     # auto: on where it works, else a warning; true: required; false: off
#   network: false                    # experiments may use the network
#   agent_network: true               # a command agent may use the network (its model's API)
#   writable: []                      # more folders experiments may write, e.g. "~/.cache/torch"
#   agent_writable: []                # more folders a command agent may write, e.g. "~/.claude"

# parallel:
#   workers: 1                        # experiments at once; above 1, each in its own slot (.crucible/slots/)
#   agents: null                      # trials in flight; null: workers + 1, up to 2 × workers while slots wait for changes (workers for the tuner)
#   gpus: null                        # "auto" (nvidia-smi -L) or ids, e.g. [0, 1]: CUDA_VISIBLE_DEVICES per slot
#   gpus_per_trial: 1                 # GPUs each slot gets when gpus is set

# search:
#   strategy: greedy                  # greedy, restart, beam or tree (see the README, Search strategies)
#   plateau: 5                        # restart: trials without a keep before going back
#   restart_from: baseline            # restart: baseline or best
#   beam_width: 3                     # beam: how many branches
#   prune_after: 6                    # tree: a node whose last K children all failed is not expanded
#   exploration: 0.5                  # tree: weight of trying little-tried subtrees
#   stop_when:
#     target: null                    # stop once the best metric reaches this
#     no_improvement: null            # stop after this many trials without a new best

# executor:
#   type: local                       # local, or slurm: one batch job per experiment
#   slurm:
#     sbatch_args: []                 # e.g. ["--partition=gpu", "--gres=gpu:1"]
#     poll_seconds: 2                 # how often jobs in flight are polled
#     setup: []                       # shell lines the job runs first, e.g. "module load cuda"
#     queue_timeout: null             # cancel a job still queued after this long: seconds, "30m"
`;
}

const PROGRAM = `# Experiment instructions

## Goal

Maximize \`score\` by changing \`solution.js\`.

## What is measured

A hidden harness calls \`solve()\` from \`solution.js\` and prints \`score: <n>\`. Higher is better.
<!-- Describe here what solve() must do, its inputs and outputs, and how the score is computed. -->

## Rules

- Change only \`solution.js\`; keep the export \`solve()\`.
- Do not try to read or imitate the harness; it is hidden on purpose.
- One idea per trial, described in one line.
`;

const SOLUTION = `// solution.js: the code the agent improves (listed under files.editable).
// The hidden evaluate.js calls solve() and scores its answer.

// The offline tuner (\`crucible run --agent tuner\`) searches the range in the marker comment.
const GUESS = 10; // @tune 0..100

export function solve() {
  return GUESS;
}
`;

const EVALUATE = `// evaluate.js: the fixed harness (listed under files.hidden: the agent never sees it).
// It runs the solution and prints "score: <n>" on standard output; crucible reads that line.
// Replace the example scoring below with your own measurement.
import { solve } from './solution.js';

const TARGET = 73.5;

const answer = Number(solve());
// A broken answer scores the worst possible value instead of crashing the harness.
const score = Number.isFinite(answer) ? 100 - Math.abs(answer - TARGET) : 0;
console.log(\`score: \${score.toFixed(4)}\`);
`;

/** What crucible and a Node experiment write that git should not track. */
export const DEFAULT_GITIGNORE = `run.log
results.tsv
.crucible/runs/
.crucible/slots/
node_modules/
`;

// npm package names are lower case without spaces; the name is only for Node's benefit.
export function packageName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-._]+|[-._]+$/g, '');
  return cleaned === '' ? 'experiment' : cleaned;
}
