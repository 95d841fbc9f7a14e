import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The bench's project: four tuned constants in a text file, scored by a hidden awk script. An
 * experiment is two tiny shell commands (a few ms), so a trial's time is mostly crucible's own.
 * The metric depends on the edit, so trials are kept and discarded as in a real run.
 */

const CONFIG = `name: bench
files:
  editable: [params.txt]
  hidden: [score.awk]
commands:
  run: "true"
  eval: awk -f score.awk params.txt
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

/** Writes the project into `dir` (created) and commits it on branch main. */
export function createBenchProject(dir) {
  mkdirSync(path.join(dir, '.crucible'), { recursive: true });
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), CONFIG);
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
