import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchGitEnv } from './fixture.mjs';

// Epoch milliseconds (GNU date), printed by the agent and the experiment: the bench reads them back
// (bench/lib/ledger-timeline.mjs) to tell the processes' own time from crucible's around them.
const NOW = 'date +%s%3N';

/**
 * The parallel bench's project: `cells` small text files, each holding one number; the loss is
 * their sum (minimised), computed by a hidden awk script after an experiment that only sleeps (so
 * two cores run eight slots). The agent is a `command` agent, a line of sh that sleeps, then
 * writes a pseudo-random number into the cell of its trial (trial mod cells): trials in flight
 * edit different files, so their changes rebase cleanly when the incumbent moves, and the
 * numbers are the same in every run, so every configuration sees the same proposals.
 *
 * Both print when their processes start and end (epoch ms): the agent in its description, the
 * experiment in run.log.
 *
 * The cells start low (100 of 0..999), so most proposals are discarded and a few are kept: the
 * incumbent moves now and then (rebases, rule 2) without turning the bench into one about the keep
 * rule.
 */
export function createParallelProject(dir, { experimentSeconds, agentSeconds, cells = 16, agents }) {
  const config = `name: parallel-bench
files:
  editable: [cells/]
  hidden: [score.awk]
commands:
  run: ${JSON.stringify(`echo bench-run-start $(${NOW}); sleep ${experimentSeconds}; echo bench-run-end $(${NOW})`)}
  eval: ${JSON.stringify(`awk -f score.awk cells/*.txt; echo bench-eval-end $(${NOW})`)}
metric:
  name: loss
  direction: minimize
constraints:
  timeout_seconds: 120
  # Never stop for failures: the bench wants exactly the trials it asked for.
  max_retries: 1000000
agent:
  type: command
  timeout_seconds: 120
  command: ${JSON.stringify(agentCommand(agentSeconds, cells))}
parallel:
  agents: ${agents === 'auto' ? 'null' : agents}
`;
  mkdirSync(path.join(dir, '.crucible'), { recursive: true });
  mkdirSync(path.join(dir, 'cells'), { recursive: true });
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), config);
  writeFileSync(path.join(dir, '.crucible', 'program.md'), 'Lower the sum of the numbers in cells/.\n');
  for (let i = 0; i < cells; i++) writeFileSync(path.join(dir, 'cells', `c${i}.txt`), '100\n');
  writeFileSync(path.join(dir, 'score.awk'), '{ s += $1 }\nEND { printf "loss: %d\\n", s }\n');
  writeFileSync(path.join(dir, '.gitignore'), 'results.tsv\n.crucible/runs/\n');
  const git = (...args) =>
    execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: { ...process.env, ...benchGitEnv }, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'parallel bench project');
  return dir;
}

/** The agent: sleep, then one number into one cell; its last line is the trial's description. */
function agentCommand(agentSeconds, cells) {
  return [
    `t0=$(${NOW})`,
    `sleep ${agentSeconds}`,
    `f=cells/c$((CRUCIBLE_TRIAL % ${cells})).txt`,
    'v=$(( (CRUCIBLE_TRIAL * 7919 + 17) % 1000 ))',
    'echo $v > $f',
    `echo "set $f to $v [agent $t0-$(${NOW})]"`,
  ].join('; ');
}
