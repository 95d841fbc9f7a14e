import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The bench's project: four tuned constants in a text file, scored by a hidden awk script. An
 * experiment is two tiny shell commands (a few ms), so a trial's time is mostly crucible's own.
 * The metric depends on the edit, so trials are kept and discarded as in a real run.
 */

/** The experiment's two commands. */
export const EXPERIMENT_COMMANDS = { run: 'true', eval: 'awk -f score.awk params.txt' };

const CONFIG = `name: bench
files:
  editable: [params.txt]
  hidden: [score.awk]
commands:
  run: ${JSON.stringify(EXPERIMENT_COMMANDS.run)}
  eval: ${EXPERIMENT_COMMANDS.eval}
metric:
  name: loss
  direction: minimize
constraints:
  timeout_seconds: 30
  # Never stop for failures: the bench wants exactly the trials it asked for.
  max_retries: 1000000
agent:
  type: tuner
  tuner:
    seed: 7
`;

// Wide log ranges: the tuner keeps finding untried values for thousands of trials.
const PARAMS = `ALPHA = 5.0 # @tune 0.001..1000 log
BETA = 300 # @tune 1..1000000 int log
GAMMA = 0.5 # @tune 0.0001..10 log
DELTA = 64 # @tune 1..100000 int log
`;

/** params.txt as committed, with DELTA set to `delta`: what the model agents write. */
export function paramsWith(delta) {
  return PARAMS.replace(/^DELTA = \d+/m, `DELTA = ${delta}`);
}

const TARGETS = { ALPHA: 0.37, BETA: 4242, GAMMA: 0.0123, DELTA: 777 };

const SCORE = `# loss = sum of squared log-distances of the constants to their targets
{ value[$1] = $3 }
END {
  loss = 0
${Object.entries(TARGETS)
  .map(([name, target]) => `  d = log(value["${name}"] / ${target}); loss += d * d`)
  .join('\n')}
  printf "loss: %.6f\\n", loss
}
`;

export const benchGitEnv = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
  GIT_TERMINAL_PROMPT: '0',
};

/**
 * A `command` agent as `claude -p` or aider would be driven, reduced to a line of sh that edits one
 * line: DELTA gets a number of the trial's own (the same in every run, so builds compare on the
 * same proposals). The serial loop (`agents: 1`), like the reference's.
 */
export const AGENT_COMMAND = 'v=$(( (CRUCIBLE_TRIAL * 7919) % 99991 + 1 )); sed -i "s/^DELTA = [0-9]*/DELTA = $v/" params.txt; echo "set DELTA to $v"';
const COMMAND_AGENT = `agent:
  type: command
  timeout_seconds: 30
  command: ${JSON.stringify(AGENT_COMMAND)}
parallel:
  agents: 1
`;

/** The agent block of each variant; `api` and `claude-code` are given their fake server's address. */
const AGENTS = {
  tuner: () => null,
  command: () => COMMAND_AGENT,
  api: ({ baseUrl }) => `agent:\n  type: api\n  provider: openai-compatible\n  model: fake\n  base_url: ${baseUrl}\n  timeout_seconds: 30\nparallel:\n  agents: 1\n`,
  'claude-code': () => 'agent:\n  type: claude-code\n  model: claude-sonnet-4-5\n  timeout_seconds: 60\nparallel:\n  agents: 1\n',
};

/**
 * Writes the project into `dir` (created) and commits it on branch main. `agent`: tuner (default),
 * command, api or claude-code (with `baseUrl`); `sandbox: false` turns the experiment's sandbox off
 * (default: the config's `auto`).
 */
export function createBenchProject(dir, { agent = 'tuner', baseUrl, sandbox = true } = {}) {
  mkdirSync(path.join(dir, '.crucible'), { recursive: true });
  const block = AGENTS[agent]({ baseUrl });
  const config = block === null ? CONFIG : CONFIG.replace(/^agent:\n(?: {2}.*\n)*/m, block);
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), sandbox ? config : `${config}sandbox: false\n`);
  writeFileSync(path.join(dir, '.crucible', 'program.md'), 'Lower the loss by tuning the constants in params.txt.\n');
  writeFileSync(path.join(dir, 'params.txt'), PARAMS);
  writeFileSync(path.join(dir, 'score.awk'), SCORE);
  writeFileSync(path.join(dir, '.gitignore'), 'results.tsv\n.crucible/runs/\n');
  const git = (...args) =>
    execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: { ...process.env, ...benchGitEnv }, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'bench project');
  return dir;
}
