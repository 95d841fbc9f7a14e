import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, testGitEnv, writeFiles } from './git-repo.js';
import { isPidAlive, isProcessAlive, type ProcessId } from './processes.js';

export { isPidAlive, isProcessAlive };

/**
 * A tiny, fast crucible project for loop tests. Layout of `root` (a temp folder):
 *
 *   proj/      the project: a git repository on `main` with .crucible/config.yaml, an editable
 *              solution.js (`export const X = 1; // @tune 1..100 int`), a hidden evaluate.js that
 *              prints `score: <f(X)>`, a readonly package.json, and untracked user files
 *   ctl/       knobs and traces outside the project, read by evaluate.js and the test agent
 *   agent.mjs  a scripted command agent (agent: 'command'), driven by ctl/plan.json
 *   worktrees/ the agent worktrees (CRUCIBLE_WORKTREE_DIR), so cleanup removes them too
 *
 * ctl/ knobs: `sleep-ms` (the experiment sleeps that long), `crash` (evaluate.js throws),
 * `grandchild` (the experiment leaves a child that ignores SIGTERM); `<knob>.<trial>` or
 * `<knob>.<tag>` applies to one trial or one run only.
 * Traces: `pids` ("<trial> <pid> <start time>" per experiment), `grandchild.pid` ("<pid> <start time>"), `agent-<trial>.json`.
 */

export interface TinyProjectOptions {
  /** Default 'maximize'. */
  direction?: 'maximize' | 'minimize';
  /** JavaScript expression of X giving the score; default `X`. */
  score?: string;
  /** Default 10. */
  timeoutSeconds?: number;
  /** Default 10. */
  maxRetries?: number;
  /** 'tuner' (default) or 'command' (the scripted agent of ctl/plan.json). */
  agent?: 'tuner' | 'command';
  /** Extra committed files. */
  files?: Record<string, string>;
  /** User files left untracked; default notes.txt and data/x.csv. */
  untracked?: Record<string, string>;
  /** Replaces the whole config.yaml text. */
  configText?: string;
  /**
   * The config's `sandbox:` value, added when the config text has none. Default "false":
   * evaluate.js writes its traces to ctl/, outside the project, and records pids that a PID
   * namespace would make meaningless; the sandbox tests opt in.
   */
  sandbox?: string;
  /**
   * The config's `parallel:` mapping, in flow style (e.g. "{ workers: 2 }"), added when the config
   * text has none. Default "{ agents: 1 }": the serial loop most tests are about.
   */
  parallel?: string;
  /**
   * The config's `evaluation:` mapping, in flow style, added when the config text has none.
   * Default "{ baseline_repeats: 1, confirm: false }": one run per measurement, as most tests
   * count them; the noise tests opt in.
   */
  evaluation?: string;
  /** The config's `search:` mapping, in flow style; absent: greedy. */
  search?: string;
}

export interface TinyProject {
  root: string;
  /** The project folder (real path). */
  dir: string;
  ctl: string;
  /** For crucible and git: test identity, no colour, worktrees under root. */
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** What the scripted agent does in one trial (ctl/plan.json maps trial numbers to steps). */
export interface AgentStep {
  /** Sets X in solution.js. */
  x?: number;
  /** Writes these files, relative to the agent's workspace. */
  write?: Record<string, string>;
  /** Exits 1 without proposing anything (after its edits and writes, if it has any). */
  fail?: boolean;
  /** Waits this long after its edits before it answers (a slow agent). */
  sleepMs?: number;
  /**
   * Answers only once this trial's experiment has started (its line in ctl/pids): that trial was
   * taken from the queue first, an order no load can swap (agents started together may answer in
   * either order, and a sleep only makes one order likely).
   */
  afterRunOf?: number;
  /** Its one-line description (default "set X to <x>" or "scripted step"). */
  say?: string;
}

/** What the scripted agent saw: its cwd's entries, solution.js, and what `cat evaluate.js` and `git show HEAD:evaluate.js` gave. */
export interface AgentRecord {
  cwd: string;
  entries: string[];
  catHidden: { ok: boolean; output: string };
  gitShow: { ok: boolean; output: string };
  /** solution.js as the turn began (null: not there). */
  solution: string | null;
}

export const USER_FILES: Record<string, string> = {
  'notes.txt': 'my notes, never committed\n',
  'data/x.csv': 'a,b\n1,2\n',
};

const EVALUATE = (score: string): string => `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { X } from './solution.js';
// In a slot (proj/.crucible/slots/<k>/) the knobs are four folders up, beside proj/.
const ctl = new URL(import.meta.url.includes('/.crucible/slots/') ? '../../../../ctl/' : '../ctl/', import.meta.url);
// A knob for one trial (name.<trial>) or one run (name.<tag>) wins over the plain one.
const read = (file) => (existsSync(new URL(file, ctl)) ? readFileSync(new URL(file, ctl), 'utf8').trim() : null);
const knob = (name) => read(\`\${name}.\${process.env.CRUCIBLE_TRIAL}\`) ?? read(\`\${name}.\${process.env.CRUCIBLE_TAG}\`) ?? read(name);
// The start time (field 22 of /proc/self/stat) tells this process apart from a later one given its pid.
let started = '';
try {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
} catch {}
appendFileSync(new URL('pids', ctl), \`\${process.env.CRUCIBLE_TRIAL ?? '-'} \${process.pid} \${started}\\n\`);
if (knob('grandchild') !== null) {
  const child = spawn('sh', ['-c', 'trap "" TERM; echo $$ $(cut -d " " -f 22 /proc/$$/stat) > "$1"; while :; do sleep 1; done', 'sh', new URL('grandchild.pid', ctl).pathname], { stdio: 'ignore' });
  child.unref();
}
// Waits (8 s at most) until this file exists in ctl/: an order that load cannot swap, unlike a
// sleep. Then sleeps, so that what comes after that file has sleep-ms to happen.
const waitFor = knob('wait-for');
for (let waited = 0; waitFor && !existsSync(new URL(waitFor, ctl)) && waited < 8000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
const sleep = Number(knob('sleep-ms') ?? 0);
if (sleep > 0) await new Promise((resolve) => setTimeout(resolve, sleep));
if (knob('crash') !== null) throw new Error('evaluate.js: the harness is broken');
console.log(\`score: \${${score}}\`);
`;

const AGENT = `import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
const ctl = process.env.CRUCIBLE_TEST_CTL;
const trial = process.env.CRUCIBLE_TRIAL;
let catHidden;
try {
  catHidden = { ok: true, output: execFileSync('cat', ['evaluate.js'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
} catch (error) {
  catHidden = { ok: false, output: String(error.stderr ?? error.message) };
}
let gitShow;
try {
  gitShow = { ok: true, output: execFileSync('git', ['show', 'HEAD:evaluate.js'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
} catch (error) {
  gitShow = { ok: false, output: String(error.stderr ?? error.message) };
}
writeFileSync(\`\${ctl}/agent-\${trial}.json\`, JSON.stringify({ cwd: process.cwd(), entries: readdirSync('.').sort(), catHidden, gitShow, solution: existsSync('solution.js') ? readFileSync('solution.js', 'utf8') : null }));
const plan = existsSync(\`\${ctl}/plan.json\`) ? JSON.parse(readFileSync(\`\${ctl}/plan.json\`, 'utf8')) : {};
const step = plan[trial] ?? {};
if (step.x !== undefined) {
  writeFileSync('solution.js', readFileSync('solution.js', 'utf8').replace(/X = [^;]*;/, \`X = \${step.x};\`));
}
for (const [file, content] of Object.entries(step.write ?? {})) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}
if (step.fail) { console.error('scripted agent failure'); process.exit(1); }
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
if (step.sleepMs) pause(step.sleepMs);
const runStarted = (n) => existsSync(\`\${ctl}/pids\`) && readFileSync(\`\${ctl}/pids\`, 'utf8').split('\\n').some((line) => line.startsWith(\`\${n} \`));
if (step.afterRunOf !== undefined) {
  for (let waited = 0; !runStarted(step.afterRunOf) && waited < 15000; waited += 20) pause(20);
}
writeFileSync(\`\${ctl}/answered-\${trial}\`, '');
console.log(step.say ?? (step.x !== undefined ? \`set X to \${step.x}\` : 'scripted step'));
`;

function configYaml(o: TinyProjectOptions): string {
  const agent = o.agent === 'command' ? ['agent:', '  type: command', '  command: node "$CRUCIBLE_TEST_AGENT"', '  timeout_seconds: 20'] : ['agent:', '  type: tuner'];
  return [
    'name: tiny',
    'files:',
    '  editable: [solution.js]',
    '  readonly: [package.json]',
    '  hidden: [evaluate.js]',
    'commands:',
    '  run: node evaluate.js > run.log 2>&1',
    '  eval: cat run.log',
    'metric:',
    '  name: score',
    `  direction: ${o.direction ?? 'maximize'}`,
    'constraints:',
    `  timeout_seconds: ${o.timeoutSeconds ?? 10}`,
    `  max_retries: ${o.maxRetries ?? 10}`,
    ...agent,
    '',
  ].join('\n');
}

function withSandboxKey(text: string, value: string): string {
  return withTopKey(text, 'sandbox', value);
}

/** Adds `key: value` at the top level when the config text has no such key. */
function withTopKey(text: string, key: string, value: string): string {
  if (new RegExp(`^${key}:`, 'm').test(text)) return text;
  return `${text}${text.endsWith('\n') ? '' : '\n'}${key}: ${value}\n`;
}

export function createTinyProject(options: TinyProjectOptions = {}): TinyProject {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-loop-')));
  const dir = path.join(root, 'proj');
  const ctl = path.join(root, 'ctl');
  mkdirSync(ctl, { recursive: true });
  writeFileSync(path.join(root, 'agent.mjs'), AGENT);
  writeFiles(dir, {
    '.crucible/config.yaml': withTopKey(
      withTopKey(withSandboxKey(options.configText ?? configYaml(options), options.sandbox ?? 'false'), 'parallel', options.parallel ?? '{ agents: 1 }'),
      'evaluation',
      options.evaluation ?? '{ baseline_repeats: 1, confirm: false }',
    ) + (options.search ? `search: ${options.search}\n` : ''),
    '.crucible/program.md': 'Make the score better by changing X in solution.js.\n',
    '.gitignore': 'results.tsv\n.crucible/runs/\n.crucible/slots/\nrun.log\n',
    'package.json': '{ "type": "module" }\n',
    'solution.js': 'export const X = 1; // @tune 1..100 int\n',
    'evaluate.js': EVALUATE(options.score ?? 'X'),
    ...options.files,
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  writeFiles(dir, options.untracked ?? USER_FILES);
  return projectAt(root);
}

/**
 * A tiny project whose score is X (solution.js) + Y (extra.js): two editable files, so that two
 * trials' changes can be independent (a clean rebase) or clash (the same line: stale).
 * `parallel` is the config's `parallel:` mapping in flow style.
 */
export function createTwoFileProject(parallel: string): TinyProject {
  const config = [
    'name: tiny',
    'files:',
    '  editable: [solution.js, extra.js]',
    '  readonly: [package.json]',
    '  hidden: [evaluate.js]',
    'commands:',
    '  run: node evaluate.js > run.log 2>&1',
    '  eval: cat run.log',
    'metric:',
    '  name: score',
    '  direction: maximize',
    'constraints:',
    '  timeout_seconds: 10',
    '  max_retries: 20',
    'agent:',
    '  type: command',
    '  command: node "$CRUCIBLE_TEST_AGENT"',
    '  timeout_seconds: 20',
    `parallel: ${parallel}`,
    '',
  ].join('\n');
  return createTinyProject({ agent: 'command', configText: config, files: { 'extra.js': 'export const Y = 0;\n' }, score: "X + (await import('./extra.js')).Y" });
}

/** A full copy (repository, records, knobs) in a new temp folder: one prepared state, many tests. */
export function copyProject(source: TinyProject): TinyProject {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-loop-')));
  cpSync(source.root, root, { recursive: true, filter: (src) => !src.startsWith(path.join(source.root, 'worktrees')) });
  return projectAt(root);
}

function projectAt(root: string): TinyProject {
  const ctl = path.join(root, 'ctl');
  const env: NodeJS.ProcessEnv = {
    ...testGitEnv,
    NO_COLOR: '1',
    CRUCIBLE_WORKTREE_DIR: path.join(root, 'worktrees'),
    CRUCIBLE_TEST_AGENT: path.join(root, 'agent.mjs'),
    CRUCIBLE_TEST_CTL: ctl,
  };
  delete env['CRUCIBLE_FAULT_KILL_AFTER'];
  return { root, dir: path.join(root, 'proj'), ctl, env, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Sets a ctl/ knob (see the file comment); null removes it. */
export function setKnob(project: TinyProject, name: string, value: string | number | null): void {
  const file = path.join(project.ctl, name);
  if (value === null) rmSync(file, { force: true });
  else writeFileSync(file, String(value));
}

/** solution.js for the tiny project whose import runs `shell` in the project folder while the experiment runs. */
export function shellSolution(x: number, shell: string): string {
  return `import { execSync } from 'node:child_process';\nexecSync(${JSON.stringify(shell)}, { stdio: 'ignore' });\nexport const X = ${x};\n`;
}

export function planAgent(project: TinyProject, plan: Record<number, AgentStep>): void {
  writeFileSync(path.join(project.ctl, 'plan.json'), JSON.stringify(plan));
}

export function agentRecord(project: TinyProject, trial: number): AgentRecord | null {
  const file = path.join(project.ctl, `agent-${trial}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as AgentRecord) : null;
}

/** The experiments started so far: trial number (as the env said), pid and start time, oldest first. */
export function experimentPids(project: TinyProject): ({ trial: string } & ProcessId)[] {
  const file = path.join(project.ctl, 'pids');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [trial = '', pid = '', start = ''] = line.split(' ');
      return { trial, pid: Number(pid), start };
    });
}

/** The grandchild an experiment left (knob `grandchild`), once it has written its pid. */
export function grandchildOf(project: TinyProject): ProcessId | null {
  const file = path.join(project.ctl, 'grandchild.pid');
  if (!existsSync(file)) return null;
  const [pid = '', start = ''] = readFileSync(file, 'utf8').trim().split(' ');
  return { pid: Number(pid), start };
}

/** Contents of project files (null when missing), to compare before and after. */
export function readFilesOf(dir: string, files: readonly string[]): Record<string, string | null> {
  return Object.fromEntries(files.map((f) => [f, existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), 'utf8') : null]));
}

/** SIGKILLs what a test may have left behind: its experiments and their grandchildren. */
export function killLeftovers(project: TinyProject): void {
  const grandchild = grandchildOf(project);
  for (const target of [...experimentPids(project), ...(grandchild ? [grandchild] : [])]) {
    // Only ours: a recycled pid belongs to someone else (its start time differs; without one, its command line).
    if (!isProcessAlive(target)) continue;
    try {
      const cmdline = readFileSync(`/proc/${target.pid}/cmdline`, 'utf8');
      if (cmdline.includes('evaluate.js') || cmdline.includes('trap')) process.kill(target.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

// ---- the run's records, and whether they agree with git ----

export type Row = Record<string, string>;
export type Event = { type: string; n?: number; [k: string]: unknown };

/** results.tsv rows (of one tag when given), as header → cell. A torn last line is left out. */
export function resultRows(dir: string, tag?: string): Row[] {
  const file = path.join(dir, 'results.tsv');
  if (!existsSync(file)) return [];
  const [header = '', ...lines] = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  const columns = header.split('\t');
  const rows = lines.map((line) => Object.fromEntries(line.split('\t').map((cell, i) => [columns[i] ?? String(i), cell])));
  return tag === undefined ? rows : rows.filter((r) => r['tag'] === tag);
}

export function ledgerEvents(dir: string, tag: string): Event[] {
  const file = path.join(dir, '.crucible', 'runs', tag, 'ledger.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').slice(0, -1).filter((l) => l !== '').map((l) => JSON.parse(l) as Event);
}

/** The commit trial `n` of run `t` started from (its `trial.start`'s parent). */
export function startOf(project: TinyProject, n: number): string {
  return ledgerEvents(project.dir, 't').find((e) => e.type === 'trial.start' && e.n === n)?.['parent'] as string;
}

/** The commit trial `n` of run `t` recorded (its `trial.end`'s summary). */
export function commitOf(project: TinyProject, n: number): string {
  return (ledgerEvents(project.dir, 't').find((e) => e.type === 'trial.end' && e.n === n)?.['summary'] as { commit: string }).commit;
}

/** The row of one trial; fails the caller's expectation with a readable message when absent. */
export function rowOf(dir: string, tag: string, trial: number): Row | undefined {
  return resultRows(dir, tag).find((r) => r['trial'] === String(trial));
}

/**
 * Everything that must hold between the ledger, results.tsv, the run branch and the working tree
 * once a run has ended (trial-lifecycle.md, property 1). Returns the problems found, one line each.
 */
export function findInconsistencies(dir: string, tag: string, branch = `crucible/${tag}`): string[] {
  const problems: string[] = [];
  const rows = resultRows(dir, tag);
  const events = ledgerEvents(dir, tag);
  const trials = rows.map((r) => Number(r['trial']));
  const seen = new Set<number>();
  for (const n of trials) {
    if (seen.has(n)) problems.push(`trial ${n} has two rows in results.tsv`);
    seen.add(n);
  }
  const sorted = [...seen].sort((a, b) => a - b);
  if (sorted.some((n, i) => n !== i)) problems.push(`trial numbers are not 0..${sorted.length - 1}: ${sorted.join(',')}`);

  const ends = new Map<number, { outcome: string; commit: string }>();
  for (const e of events) {
    if (e.type !== 'trial.end' || e.n === undefined) continue;
    if (ends.has(e.n)) problems.push(`trial ${e.n} ended twice in the ledger`);
    ends.set(e.n, e['summary'] as { outcome: string; commit: string });
  }
  for (const e of events) if (e.type === 'trial.start' && e.n !== undefined && !ends.has(e.n)) problems.push(`trial ${e.n} started but never ended in the ledger`);
  for (const [n, summary] of ends) {
    const row = rows.find((r) => r['trial'] === String(n));
    if (!row) problems.push(`trial ${n} ended in the ledger but has no row`);
    else if (row['status'] !== summary.outcome) problems.push(`trial ${n}: row says ${row['status']}, ledger says ${summary.outcome}`);
    else if (!summary.commit.startsWith(row['commit'] ?? '?')) problems.push(`trial ${n}: row commit ${row['commit']} is not ${summary.commit}`);
  }
  for (const n of seen) if (!ends.has(n)) problems.push(`trial ${n} has a row but no trial.end`);
  // The chain rule: every kept change was measured on top of the incumbent it replaced.
  let incumbent: string | null = null;
  for (const e of events) {
    if (e.type !== 'trial.end') continue;
    const summary = e['summary'] as { outcome: string; commit: string; base?: string; trial: number };
    if (summary.outcome !== 'keep' && summary.outcome !== 'baseline') continue;
    if (summary.outcome === 'keep' && incumbent !== null && summary.base !== undefined && summary.base !== incumbent) {
      problems.push(`kept trial ${summary.trial} was measured on ${summary.base.slice(0, 7)}, not on the incumbent ${incumbent.slice(0, 7)}`);
    }
    incumbent = summary.commit;
  }

  const from = events.find((e) => e.type === 'run.create')?.['from'];
  if (typeof from !== 'string') return [...problems, 'the ledger has no run.create'];
  const head = git(dir, 'rev-parse', branch);
  const onBranch = git(dir, 'rev-list', `${from}..${branch}`).split('\n').filter(Boolean);
  const keeps = rows.filter((r) => r['status'] === 'keep');
  for (const sha of onBranch) {
    if (!keeps.some((r) => r['commit'] !== '' && sha.startsWith(r['commit'] ?? '?'))) problems.push(`commit ${sha.slice(0, 7)} on ${branch} has no keep row`);
  }
  for (const r of keeps) {
    if (!onBranch.some((sha) => sha.startsWith(r['commit'] ?? '?'))) problems.push(`kept trial ${r['trial']} (${r['commit']}) is not on ${branch}`);
  }
  const failed = git(dir, 'for-each-ref', '--format=%(objectname) %(refname:short)', `refs/tags/failed/${tag}/`).split('\n').filter(Boolean);
  for (const line of failed) {
    const [sha = '', name = ''] = line.split(' ');
    if (sha === head || onBranch.includes(sha)) problems.push(`failed commit ${name} is on ${branch}`);
  }
  // Every measured commit not kept is tagged (git.tag_failed, on by default), once its way back is done.
  const tagged = new Map(failed.map((line) => [line.split(' ')[1] ?? '', line.split(' ')[0] ?? '']));
  for (const r of rows) {
    if (r['commit'] === '' || ['keep', 'baseline', 'stopped', 'interrupted', 'stale'].includes(r['status'] ?? '')) continue;
    const name = `failed/${tag}/${r['trial']}`;
    if (!(tagged.get(name) ?? '?').startsWith(r['commit'] ?? '!')) problems.push(`${r['status']} trial ${r['trial']} (${r['commit']}) has no tag ${name}`);
  }
  if (git(dir, 'symbolic-ref', '--short', 'HEAD') !== branch) problems.push(`${branch} is not checked out`);
  const dirty = git(dir, 'status', '--porcelain').split('\n').filter((l) => l !== '' && !l.startsWith('??'));
  if (dirty.length > 0) problems.push(`tracked files changed: ${dirty.join('; ')}`);
  return problems;
}

// ---- the built CLI, spawned ----

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = path.join(repoRoot, 'dist', 'cli', 'main.js');

/** The e2e tests run the built CLI: refuse to test a missing or stale build. */
export function checkCliBuilt(): void {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  const built = statSync(cliPath).mtimeMs;
  const newest = (folder: string): number =>
    Math.max(0, ...readdirSync(folder, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(folder, e.name)) : statSync(path.join(folder, e.name)).mtimeMs)));
  if (newest(path.join(repoRoot, 'src')) > built) throw new Error('dist/ is older than src/: run npm run build first');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  stderr(): string;
  done: Promise<CliResult>;
}

/** Spawns `crucible <args>` in the project, stdin closed; SIGKILLed after timeoutMs. */
/** `detached`: crucible leads a process group of its own, as in a terminal, whose Ctrl+C reaches the whole group. */
export function startCli(project: TinyProject, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; detached?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: project.dir, env: { ...project.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stderr: () => stderr, done };
}

export function runCli(project: TinyProject, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(project, args, options).done;
}

/** Polls `condition` every 20 ms; rejects naming `what` after timeoutMs. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
