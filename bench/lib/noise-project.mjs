import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchGitEnv } from './fixture.mjs';

/**
 * The noise bench's project: value.js (editable) holds the code's true value, VALUE; the hidden
 * measure.sh prints `score: VALUE + N(0, 1)`, the n-th run taking the n-th draw of a seeded
 * stream (the generator of test/helpers/noisy-trials.ts, written to ctl/noise.txt
 * beforehand, with the run counter in ctl/, outside the project), so that a series of runs
 * replays exactly and every setting sees the same draws. A few ms per run, in sh and awk: a
 * node process takes 50 to 500 ms to start on a busy 2-core machine, and would be most of the
 * bench's time.
 *
 * The agent is a `command` agent, a line of sh: trial n adds the n-th gain of plan.txt to VALUE and
 * writes n into NOTE (a gain of 0 still changes the file). Gains are in noise widths (sd = 1).
 */
export function createNoiseProject(root, { seed, gains, evaluation, draws }) {
  const dir = path.join(root, 'proj');
  const ctl = path.join(root, 'ctl');
  mkdirSync(path.join(dir, '.crucible'), { recursive: true });
  mkdirSync(ctl, { recursive: true });
  const noise = gaussian(seed);
  writeFileSync(path.join(ctl, 'noise.txt'), `${Array.from({ length: draws }, () => noise().toFixed(9)).join('\n')}\n`);
  const plan = path.join(root, 'plan.txt');
  writeFileSync(plan, `${gains.join('\n')}\n`);
  const config = `name: noise-bench
files:
  editable: [value.js]
  hidden: [measure.sh]
commands:
  run: sh measure.sh > run.log
  eval: cat run.log
metric:
  name: score
  direction: maximize
constraints:
  timeout_seconds: 60
  # Never stop for failures: the bench wants exactly the trials it asked for.
  max_retries: 1000000
agent:
  type: command
  timeout_seconds: 60
  command: ${JSON.stringify(agentCommand(plan))}
# The noise counter lives in ctl/, outside the project: the sandbox would not let it be written.
sandbox: false
# One proposal at a time: every change is measured against the parent it was made on.
parallel: { workers: 1, agents: 1 }
${evaluation === null ? '' : `evaluation: ${evaluation}\n`}`;
  writeFileSync(path.join(dir, '.crucible', 'config.yaml'), config);
  writeFileSync(path.join(dir, '.crucible', 'program.md'), 'Raise the score by changing value.js.\n');
  writeFileSync(path.join(dir, 'value.js'), 'export const VALUE = 100;\nexport const NOTE = 0;\n');
  writeFileSync(path.join(dir, 'measure.sh'), measureScript(ctl));
  writeFileSync(path.join(dir, '.gitignore'), 'results.tsv\nrun.log\n.crucible/runs/\n.crucible/slots/\n');
  const git = (...args) =>
    execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: dir, env: { ...process.env, ...benchGitEnv }, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'noise bench project');
  return dir;
}

/** The experiment: the next draw of ctl/noise.txt added to VALUE (serial runs only: the counter is not locked). */
function measureScript(ctl) {
  const runs = JSON.stringify(path.join(ctl, 'runs'));
  return [
    `n=$(( $(cat ${runs} 2>/dev/null || echo 0) + 1 ))`,
    `echo "$n" > ${runs}`,
    `awk -v n="$n" 'FNR == NR { if ($3 == "VALUE") { v = $5; sub(/;$/, "", v) } next } FNR == n { printf "score: %.9f\\n", v + $1; found = 1; exit } END { if (!found) exit 1 }' value.js ${JSON.stringify(path.join(ctl, 'noise.txt'))}`,
    '',
  ].join('\n');
}

/** The agent: VALUE += the trial's gain, NOTE = the trial; its last line is the description. */
function agentCommand(plan) {
  return [
    `g=$(sed -n "\${CRUCIBLE_TRIAL}p" ${JSON.stringify(plan)})`,
    `awk -v g="$g" -v n="$CRUCIBLE_TRIAL" '$3 == "VALUE" { v = $5; sub(/;$/, "", v); printf "export const VALUE = %s;\\n", v + g; next } $3 == "NOTE" { printf "export const NOTE = %d;\\n", n; next } { print }' value.js > value.js.new`,
    'mv value.js.new value.js',
    'echo "change the value by $g"',
  ].join('; ');
}

/** The true VALUE of each commit (sha → number), read from git in one process. */
export function readTrueValues(dir, shas) {
  const unique = [...new Set(shas)];
  const out = execFileSync('git', ['cat-file', '--batch'], { cwd: dir, input: unique.map((s) => `${s}:value.js\n`).join(''), encoding: 'utf8', maxBuffer: 64 << 20 });
  const values = new Map();
  const pattern = /^([0-9a-f]{40}) blob \d+\nexport const VALUE = ([^;]+);/gm;
  const blobs = [...out.matchAll(pattern)].map((m) => Number(m[2]));
  // cat-file answers in the order asked, one blob per sha (a missing one says "missing" instead).
  let next = 0;
  for (const line of out.split('\n')) {
    if (/ blob \d+$/.test(line)) values.set(unique[values.size], blobs[next++]);
    else if (/ missing$/.test(line)) values.set(unique[values.size], NaN);
  }
  return values;
}

/**
 * The gains of one seed's trials (1..count), in noise widths: `real` of them +3, the rest split
 * between 0 and −0.5 (changes that are not better), in a seeded random order.
 */
export function planGains(seed, count, realShare) {
  let state = (seed * 2654435761) >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const u = uniform();
    return u < realShare ? 3 : u < realShare + (1 - realShare) * 0.75 ? 0 : -0.5;
  });
}

/** N(0, 1) draws from a seed: mulberry32 and Box–Muller, as test/helpers/noisy-trials.ts. */
function gaussian(seed) {
  let state = (seed * 1_000_003) >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}
