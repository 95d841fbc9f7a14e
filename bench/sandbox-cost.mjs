/**
 * `npm run bench:sandbox`: what the sandbox and crucible's spawning cost a trial, measured the way
 * issue 12 measures orchestration (a trial's wall time less its commands run alone).
 *
 *   node bench/sandbox-cost.mjs [--trials 100] [--block 25] [--settle-max-s 90]
 *
 * Four projects of the loop bench (bench/lib/fixture.mjs): the tuner and the `command` agent, each
 * with `sandbox: auto` (the default: bubblewrap where it works) and with `sandbox: false`. They run
 * --trials trials each, in alternating blocks of --block (a session each), so that load from other
 * processes falls on all four alike. Then the experiment's and the agent's commands are timed alone
 * (bench/lib/floors.mjs). For each project: median wall per trial, crucible's own accounting
 * (totalMs − agentMs − runMs), the agent's and the experiment's time as crucible books them, and
 * wall less the commands alone. Beside them, in the same blocks, the reference's floor
 * (lib/reference-floor.mjs), against which crucible's figure with the sandbox is read.
 *
 * Before each block it waits until creating a file costs about its best again (floors.mjs's
 * createQuietGate, at most --settle-max-s; 0 only probes): on a journal-less file system the
 * frees of the last minute slow every create, and ratios measured then are the file system's.
 *
 * Prints a table and writes bench/results/sandbox-cost.json. Never run as a timed test.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile, repoRoot } from './lib/built.mjs';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { hasPython, measureBareLoops } from './lib/bare-loop.mjs';
import { createQuietGate, measureFloors } from './lib/floors.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { orchestrationMs, renderReferenceFloor } from './lib/overhead-render.mjs';
import { referenceFloorFigures, runReferenceTrials } from './lib/reference-floor.mjs';
import { formatTable, median, round } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const options = parseOptions(process.argv.slice(2));
const startRunFile = builtFile(path.join('loop', 'start-run.js'), 'bench:sandbox');
const { startRun } = await import(pathToFileURL(startRunFile).href);

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-sandbox-')));
const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
try {
  const loadBefore = loadAverage();
  const projects = [];
  for (const agent of ['tuner', 'command']) {
    for (const sandbox of ['auto', 'false']) {
      const dir = createBenchProject(path.join(tmp, `${agent}-${sandbox}`), { agent, sandbox: sandbox === 'auto' });
      projects.push({ agent, sandbox, dir, trials: [] });
    }
  }
  // The reference's floor (lib/reference-floor.mjs), in the same blocks: a project of its own per path.
  const references = hasPython(env)
    ? ['tuner', 'command'].map((agent) => ({ agent, dir: createBenchProject(path.join(tmp, `reference-${agent}`), { agent }), trials: [] }))
    : [];
  const createMs = [];
  const settled = [];
  const settle = createQuietGate(tmp, { maxWaitS: options.settleMaxS });
  for (let done = 0; done < options.trials; done += options.block) {
    const gate = await settle();
    settled.push(gate);
    createMs.push(gate.create_ms);
    for (const p of projects) {
      const count = Math.min(options.block, options.trials - done);
      const timed = await runTunerTrials(startRun, { projectDir: p.dir, tag: 't', count, env, agentType: p.agent === 'tuner' ? 'tuner' : null });
      p.trials.push(...timed.trials);
    }
    for (const r of references) {
      const count = Math.min(options.block, options.trials - done);
      r.trials.push(...runReferenceTrials({ dir: r.dir, env, agent: r.agent, first: done + 1, count, stateFile: path.join(tmp, `reference-${r.agent}.json`) }));
    }
    process.stderr.write(`  ${Math.min(done + options.block, options.trials)}/${options.trials} trials each\n`);
  }
  const floorsDir = createBenchProject(path.join(tmp, 'floors'));
  const floors = await measureFloors(floorsDir, env);
  const bare = await measureBareLoops(floorsDir, env, floors);
  const rows = projects.map((p) => {
    const m = (pick) => round(median(p.trials.map(pick)));
    return {
      agent: p.agent,
      sandbox: p.sandbox,
      trials: p.trials.length,
      wall_median_ms: m((t) => t.wallMs),
      overhead_median_ms: m((t) => t.overheadMs),
      agent_median_ms: m((t) => t.agentMs),
      experiment_median_ms: m((t) => t.runMs),
      wall_less_commands_alone_ms: round(orchestrationMs(floors, p.agent, p.trials)),
    };
  });
  process.stdout.write(
    `${formatTable(
      ['path', 'sandbox', 'trials', 'wall', 'overhead (crucible\'s accounting)', 'agent', 'experiment', 'wall less the commands alone'],
      rows.map((r) => [r.agent, r.sandbox, r.trials, r.wall_median_ms, r.overhead_median_ms, r.agent_median_ms, r.experiment_median_ms, r.wall_less_commands_alone_ms]),
    )}\nmedians, ms; the commands alone: experiment ${floors.experiment_alone_ms}, command agent ${floors.command_agent_alone_ms}; spawn() blocks ${floors.spawn_blocks_ms} from the bench's Node\n` +
      `a loop that only starts the commands (lib/bare-loop.mjs), wall less the commands alone: ` +
      `tuner ${bare.tuner.node_ms} from Node, ${bare.tuner.python_ms ?? '-'} from Python; command agent ${bare.command.node_ms} from Node, ${bare.command.python_ms ?? '-'} from Python\n` +
      `one file created (O_EXCL), median before each block: ${createMs.join(', ')} ms (the file system's state: a trial creates a dozen or more files), ` +
      `after waiting ${settled.map((g) => g.waited_s).join(', ')} s for it to settle\n`,
  );
  const reference = Object.fromEntries(
    references.map((r) => [r.agent, referenceFloorFigures(floors, r.agent, r.trials, projects.find((p) => p.agent === r.agent && p.sandbox === 'auto').trials)]),
  );
  for (const [agent, f] of Object.entries(reference)) process.stdout.write(`${renderReferenceFloor(agent, f)} (crucible: sandbox on)\n`);
  const out = { date: new Date().toISOString(), machine: describeMachine(), load_average_1_5_15: { before: loadBefore, after: loadAverage() }, floors, file_create_ms_per_block: createMs, settle_waited_s_per_block: settled.map((g) => g.waited_s), bare_loop_ms: bare, reference_floor: reference, projects: rows };
  mkdirSync(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench', 'results', 'sandbox-cost.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write('wrote bench/results/sandbox-cost.json\n');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

function parseOptions(args) {
  const parsed = { trials: 100, block: 25, settleMaxS: 90 };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--trials') parsed.trials = Number(args[++i]);
    else if (arg === '--block') parsed.block = Number(args[++i]);
    else if (arg === '--settle-max-s') parsed.settleMaxS = Number(args[++i]);
    else throw new Error(`unknown option ${arg}`);
  }
  return parsed;
}
