import { execFileSync, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { AGENT_COMMAND, EXPERIMENT_COMMANDS } from './fixture.mjs';
import { median, round } from './stats.mjs';

/**
 * The floor of the measure: a loop that does nothing a trial needs but start its
 * commands, one after the other, the way a tool that keeps its commands apart must (`sh -c`, a
 * session of its own, output on pipes, waiting for the exit and the end of the output). No git,
 * no records, no metric, no scans. Its wall per trial less the commands alone (floors.mjs) is
 * what starting them costs from that runtime on this machine: a tool can only come near it.
 *
 * From Node (libuv forks its whole address space) and, where `python3` is on PATH, from Python
 * (subprocess uses vfork). Each `trials` trials, in alternating blocks of ten; the agent's line
 * only on the command agent's path. Returns ms per trial less the commands alone, by runtime and
 * path, or null for Python where there is none.
 */
export async function measureBareLoops(dir, env, floors, trials = 60) {
  const commandsOf = (agent) => [...(agent === 'command' ? [AGENT_COMMAND] : []), EXPERIMENT_COMMANDS.run, EXPERIMENT_COMMANDS.eval];
  const aloneOf = (agent) => floors.experiment_alone_ms + (agent === 'command' ? floors.command_agent_alone_ms : 0);
  const python = hasPython(env);
  const out = {};
  for (const agent of ['tuner', 'command']) {
    const node = [];
    const py = [];
    for (let done = 0; done < trials; done += 10) {
      for (let i = 0; i < 10; i++) node.push(await nodeTrial(commandsOf(agent), dir, env, done + i + 1));
      if (python) py.push(...pythonTrials(commandsOf(agent), dir, env, done + 1, 10));
    }
    execFileSync('git', ['checkout', '-q', '--', 'params.txt'], { cwd: dir, env });
    out[agent] = {
      node_ms: round(median(node) - aloneOf(agent)),
      python_ms: python ? round(median(py) - aloneOf(agent)) : null,
    };
  }
  return out;
}

/** Whether `python3` runs here (the Python loops print a dash where it does not). */
export function hasPython(env) {
  try {
    execFileSync('python3', ['-c', 'import subprocess'], { env, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function nodeTrial(commands, cwd, env, trial) {
  const start = performance.now();
  for (const command of commands) {
    const child = spawn('/bin/sh', ['-c', command], { cwd, env: { ...env, CRUCIBLE_TRIAL: String(trial) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const ends = [child.stdout, child.stderr].map((stream) => new Promise((resolve) => stream.on('close', resolve).resume()));
    await Promise.all([new Promise((resolve) => child.on('exit', resolve)), ...ends]);
  }
  return performance.now() - start;
}

const PYTHON_LOOP = `
import json, os, subprocess, sys, time
commands, first, count = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
times = []
for trial in range(first, first + count):
    env = dict(os.environ, CRUCIBLE_TRIAL=str(trial))
    start = time.perf_counter()
    for command in commands:
        subprocess.run(['/bin/sh', '-c', command], env=env, stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True)
    times.append((time.perf_counter() - start) * 1000)
print(json.dumps(times))
`;

function pythonTrials(commands, cwd, env, first, count) {
  const printed = execFileSync('python3', ['-c', PYTHON_LOOP, JSON.stringify(commands), String(first), String(count)], { cwd, env, encoding: 'utf8' });
  return JSON.parse(printed);
}
