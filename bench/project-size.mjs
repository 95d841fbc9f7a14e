/**
 * `npm run bench:project-size`: what a trial costs as the project grows. The loop bench's project
 * (bench/lib/fixture.mjs) holds four files; a user's holds hundreds or thousands. This one adds
 * --files tracked files (in 50 folders) to it and runs the tuner and the `command` agent there
 * and on the bare project, without the sandbox, in alternating blocks of --block trials (a
 * session each), so that load from other processes falls on all alike.
 *
 *   node bench/project-size.mjs [--files 5000] [--trials 150] [--block 50] [--baseline-ref <commit>]
 *
 * With --baseline-ref, that commit is built into a temporary folder and run the same way in the
 * same blocks: its figures and the ratio of this build's to them. Prints a table and writes
 * bench/results/project-size.json. Never run as a timed test.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { builtFile, repoRoot } from './lib/built.mjs';
import { benchGitEnv, createBenchProject } from './lib/fixture.mjs';
import { describeMachine, loadAverage } from './lib/machine.mjs';
import { buildRef } from './lib/overhead.mjs';
import { formatTable, median, round } from './lib/stats.mjs';
import { runTunerTrials } from './lib/tuner-trials.mjs';

const options = parseOptions(process.argv.slice(2));
const startRunFile = builtFile(path.join('loop', 'start-run.js'), 'bench:project-size');

const tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-bench-size-')));
const env = { ...process.env, ...benchGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees') };
try {
  const builds = [{ name: 'current', startRun: (await import(pathToFileURL(startRunFile).href)).startRun }];
  if (options.baselineRef !== null) {
    process.stderr.write(`building ${options.baselineRef}...\n`);
    const dist = buildRef(repoRoot, options.baselineRef, path.join(tmp, 'baseline'));
    builds.push({ name: options.baselineRef, startRun: (await import(pathToFileURL(path.join(dist, 'loop', 'start-run.js')).href)).startRun });
  }
  const loadBefore = loadAverage();
  const projects = [];
  for (const build of builds) {
    for (const agent of ['tuner', 'command']) {
      for (const files of [0, options.files]) {
        const dir = createBenchProject(path.join(tmp, `${build.name}-${agent}-${files}`), { agent, sandbox: false });
        addFiles(dir, files);
        projects.push({ build, agent, files, dir, trials: [] });
      }
    }
  }
  for (let done = 0; done < options.trials; done += options.block) {
    for (const p of projects) {
      const count = Math.min(options.block, options.trials - done);
      const timed = await runTunerTrials(p.build.startRun, { projectDir: p.dir, tag: 't', count, env, agentType: p.agent === 'tuner' ? 'tuner' : null });
      p.trials.push(...timed.trials);
    }
    process.stderr.write(`  ${Math.min(done + options.block, options.trials)}/${options.trials} trials each\n`);
  }
  const rows = projects.map((p) => ({
    build: p.build.name,
    agent: p.agent,
    files: p.files,
    trials: p.trials.length,
    wall_ms: round(median(p.trials.map((t) => t.wallMs))),
    overhead_ms: round(median(p.trials.map((t) => t.overheadMs))),
    agent_ms: round(median(p.trials.map((t) => t.agentMs))),
    run_ms: round(median(p.trials.map((t) => t.runMs))),
  }));
  const result = { machine: describeMachine(), load: { before: loadBefore, after: loadAverage() }, options, rows };
  if (builds.length > 1) {
    result.ratios = rows
      .filter((r) => r.build === 'current')
      .map((r) => {
        const base = rows.find((b) => b.build !== 'current' && b.agent === r.agent && b.files === r.files);
        return { agent: r.agent, files: r.files, wall: round(r.wall_ms / base.wall_ms, 3), overhead: round(r.overhead_ms / base.overhead_ms, 3) };
      });
  }
  console.log(formatTable(['build', 'agent', 'files', 'trials', 'wall', 'overhead (crucible\'s accounting)', 'agent', 'experiment'], rows.map((r) => [r.build, r.agent, r.files, r.trials, r.wall_ms, r.overhead_ms, r.agent_ms, r.run_ms])));
  console.log(`medians, ms; files: tracked files added to the bench's project, in 50 folders; no sandbox`);
  if (result.ratios) for (const r of result.ratios) console.log(`${r.agent}, ${r.files} files: wall ${r.wall}× and overhead ${r.overhead}× ${options.baselineRef}'s`);
  const out = path.join(repoRoot, 'bench', 'results', 'project-size.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, out)}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

/** `count` small tracked files in 50 folders, committed (none for the bare project). */
function addFiles(dir, count) {
  if (count === 0) return;
  for (let i = 0; i < count; i++) {
    const folder = path.join(dir, 'lib', `d${i % 50}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `f${i}.txt`), `file ${i}\n`);
  }
  execFileSync('git', ['add', '-A'], { cwd: dir, env });
  execFileSync('git', ['commit', '-qm', `${count} files`], { cwd: dir, env });
}

function parseOptions(args) {
  const parsed = { files: 5000, trials: 150, block: 50, baselineRef: null };
  for (let i = 0; i < args.length; i++) {
    const value = args[i + 1];
    if (args[i] === '--files') parsed.files = Number(value);
    else if (args[i] === '--trials') parsed.trials = Number(value);
    else if (args[i] === '--block') parsed.block = Number(value);
    else if (args[i] === '--baseline-ref') parsed.baselineRef = value;
    else {
      process.stderr.write(`unknown option ${args[i]}\n`);
      process.exit(2);
    }
    i++;
  }
  return parsed;
}
