import { execFileSync } from 'node:child_process';
import { AGENT_COMMAND, EXPERIMENT_COMMANDS } from './fixture.mjs';
import { orchestrationMs } from './overhead-render.mjs';
import { round } from './stats.mjs';

/**
 * The reference's floor on this machine, measured beside crucible's trials (issue 12's target is
 * half the reference's overhead, which was measured on an earlier day, on a slower machine, and
 * the reference cannot be installed here). A Python loop that does, per trial, only what the
 * reference (autocrucible 0.3.0) does outside its agent and its experiment by starting
 * processes, in its order, as ../shared/reference/behaviour-spec.md §3.3, §3.5 and §3.8 give
 * them: `git diff --name-only HEAD` and `git ls-files --others --exclude-standard` to find what
 * the agent changed, `git add -A`, `git commit -m`, `git rev-parse --short HEAD`, the run and
 * the eval through the shell with their output captured, the metric read, and for a trial not
 * kept `git tag -f failed/<tag>/<n>` and `git reset --hard HEAD~1`; then its results row
 * appended, to a file git ignores (the reference's init adds it to `.gitignore`). What the
 * reference also does in Python (assembling the prompt from every past row, its guardrails, its
 * console output) is left out: the floor is below the reference's true overhead, so crucible's
 * ratio to it is an upper bound on its ratio to the reference.
 *
 * The agent's edit is the bench's command agent's line (`sh -c`, the same proposals as
 * crucible's command agent); on the tuner's path it is written from Python, as an in-process
 * proposal is. Kept as the reference keeps: a metric lower than the best so far.
 */
const REFERENCE_LOOP = `
import json, os, re, subprocess, sys, time
ws, mode, first, count, state_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
agent_command, run_command, eval_command = json.loads(sys.argv[6])
def git(*args):
    return subprocess.run(['git', *args], cwd=ws, check=True, capture_output=True, text=True).stdout
if os.path.exists(state_file):
    state = json.load(open(state_file))
else:
    # What the reference's init does before its first trial (behaviour-spec 3.1): its results
    # file and run.log ignored, committed. Not timed.
    with open(os.path.join(ws, '.gitignore'), 'a') as ignore:
        ignore.write('results-*.tsv\\nrun.log\\n')
    git('add', '-A')
    git('commit', '-m', 'chore: gitignore generated files')
    state = {'best': None, 'seq': 0}
def shell(command, env=None):
    return subprocess.run(command, shell=True, cwd=ws, env=env, capture_output=True, text=True, timeout=30)
trials = []
for trial in range(first, first + count):
    env = dict(os.environ, CRUCIBLE_TRIAL=str(trial))
    start = time.perf_counter()
    if mode == 'command':
        shell(agent_command, env)
    else:
        value = (trial * 7919) % 99991 + 1
        path = os.path.join(ws, 'params.txt')
        text = open(path).read()
        open(path, 'w').write(re.sub(r'^DELTA = [0-9]*', 'DELTA = %d' % value, text, flags=re.M))
    changed = [p for p in git('diff', '--name-only', 'HEAD').splitlines() + git('ls-files', '--others', '--exclude-standard').splitlines() if '__pycache__/' not in p]
    git('add', '-A')
    git('commit', '-m', 'trial %d' % trial)
    commit = git('rev-parse', '--short', 'HEAD').strip()
    run = shell(run_command)
    metric = None
    if run.returncode == 0:
        found = re.search(r'^loss:\\s*([-+0-9.eE]+)', shell(eval_command).stdout, re.M)
        metric = float(found.group(1)) if found else None
    kept = metric is not None and (state['best'] is None or metric < state['best'])
    if kept:
        state['best'] = metric
    else:
        state['seq'] += 1
        git('tag', '-f', 'failed/bench/%d' % state['seq'])
        git('reset', '--hard', 'HEAD~1')
    with open(os.path.join(ws, 'results-bench.tsv'), 'a') as results:
        results.write('%s\\t%s\\t%s\\ttrial %d\\n' % (commit, metric, 'keep' if kept else 'discard', trial))
    trials.append({'wallMs': (time.perf_counter() - start) * 1000, 'outcome': 'keep' if kept else 'discard'})
json.dump(state, open(state_file, 'w'))
print(json.dumps(trials))
`;

/**
 * `count` trials of the reference's floor on `dir` (a bench project of its own: the loop commits,
 * tags and resets in it), from trial number `first`; `agent` 'tuner' or 'command'. Its state
 * (the best metric, the failure count) lives in `stateFile` from one block to the next.
 * Returns each trial's wall time and outcome.
 */
export function runReferenceTrials({ dir, env, agent, first, count, stateFile }) {
  const commands = JSON.stringify([AGENT_COMMAND, EXPERIMENT_COMMANDS.run, EXPERIMENT_COMMANDS.eval]);
  const printed = execFileSync('python3', ['-c', REFERENCE_LOOP, dir, agent, String(first), String(count), stateFile, commands], { cwd: dir, env, encoding: 'utf8' });
  return JSON.parse(printed);
}

/**
 * The floor's figures against crucible's trials of the same blocks: wall per trial less the
 * commands alone for each (floors.mjs), and crucible's over the floor's.
 */
export function referenceFloorFigures(floors, agent, referenceTrials, crucibleTrials) {
  const less = (trials) => orchestrationMs(floors, agent, trials);
  const reference = less(referenceTrials);
  const crucible = less(crucibleTrials);
  const outcomes = {};
  for (const t of referenceTrials) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
  const byOutcome = Object.fromEntries(Object.keys(outcomes).map((o) => [o, round(less(referenceTrials.filter((t) => t.outcome === o)))]));
  return {
    trials: referenceTrials.length,
    outcomes,
    reference_floor_ms: round(reference),
    reference_floor_by_outcome_ms: byOutcome,
    crucible_ms: round(crucible),
    crucible_over_reference_floor: round(crucible / reference, 3),
  };
}
