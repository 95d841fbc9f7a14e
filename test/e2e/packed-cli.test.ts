import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What a user gets from npm: the repository packed with `npm pack` (which runs the build), the
 * tarball installed into a private prefix, and its `crucible` binary spawned on real projects.
 * Pack and install happen once; every command below runs the installed copy, never the sources.
 *
 * The pack runs in a copy of the checkout without dist/: the build starts from nothing, as on a
 * clean clone, and never rewrites the repository's dist/ while other tests spawn it.
 */

// Never copied: the build output, installed packages (linked instead), git's data, stray tarballs.
const NOT_COPIED = new Set(['dist', 'node_modules', '.git', 'coverage']);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let tmp: string;
let crucible: string;
let packedFiles: string[];
let cliEnv: NodeJS.ProcessEnv;

beforeAll(() => {
  tmp = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-e2e-')));
  const checkout = path.join(tmp, 'checkout');
  cpSync(repoRoot, checkout, {
    recursive: true,
    filter: (from) => {
      const top = path.relative(repoRoot, from).split(path.sep)[0] ?? '';
      return !NOT_COPIED.has(top) && !top.endsWith('.tgz');
    },
  });
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(checkout, 'node_modules'), 'dir');
  // The build's own output goes to stderr; stdout holds only the JSON report.
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--pack-destination', tmp, '--json'], { cwd: checkout, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  ) as { filename: string; files: { path: string }[] }[];
  const report = packed[0];
  if (!report) throw new Error('npm pack reported no package');
  packedFiles = report.files.map((f) => f.path);
  // The dependencies come from npm's cache when it has them; --ignore-scripts keeps the install
  // from running anything of ours (a tarball's `prepare` never runs anyway).
  execFileSync(
    'npm',
    ['install', '--global', '--prefix', path.join(tmp, 'prefix'), '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', path.join(tmp, report.filename)],
    { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  crucible = path.join(tmp, 'prefix', 'bin', 'crucible');
  cliEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    GIT_TERMINAL_PROMPT: '0',
    NO_COLOR: '1',
    // Agent worktrees go under the test's folder, so cleaning it up removes everything.
    CRUCIBLE_WORKTREE_DIR: path.join(tmp, 'worktrees'),
  };
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Spawns the installed binary in `cwd`, stdin closed as in a script; resolves with its exit code and output. */
function runCli(cwd: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(crucible, args, { cwd, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function parseJson<T>(result: CliResult): T {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe('the packed package', () => {
  it('holds the build, the bundled examples with their hidden harness and config, and the schema', () => {
    expect(packedFiles).toContain('package.json');
    expect(packedFiles).toContain('dist/cli/main.js');
    expect(packedFiles).toContain('schema/crucible.schema.json');
    for (const file of ['benchmark.js', 'sort.js', '.crucible/config.yaml', '.crucible/program.md']) {
      expect(packedFiles).toContain(`examples/optimize-sorting/${file}`);
    }
  });

  it('holds every entry point package.json names: the binary, main, types and exports', () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      bin?: Record<string, string>;
      main?: string;
      types?: string;
      exports?: Record<string, string | Record<string, string>>;
    };
    const named = [
      ...Object.values(manifest.bin ?? {}),
      manifest.main,
      manifest.types,
      ...Object.values(manifest.exports ?? {}).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target))),
    ].filter((file): file is string => file !== undefined);
    const missing = [...new Set(named.map((file) => path.posix.normalize(file)))].filter((file) => !packedFiles.includes(file));
    expect(missing).toEqual([]);
  });

  it('leaves out the tests, the sources and node_modules', () => {
    const unwanted = packedFiles.filter((f) => /^(test|src|bench|node_modules)\//.test(f) || f.includes('/node_modules/') || f.startsWith('dist/test/'));
    expect(unwanted).toEqual([]);
  });
});

describe('crucible, installed from the tarball', () => {
  it('prints the package version', async () => {
    const result = await runCli(tmp, '--version');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(packageVersion);
  });

  it('lists the bundled examples', async () => {
    const result = await runCli(tmp, 'new', '--list');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/optimize-sorting\s+ops_per_sec \(maximize\)/);
  });

  it('creates a project from an example, hidden harness and .gitignore included, and refuses to overwrite it', async () => {
    const created = await runCli(tmp, 'new', 'sorting', '-e', 'optimize-sorting');
    expect(created.code, created.stderr).toBe(0);
    for (const file of ['sort.js', 'benchmark.js', 'package.json', '.crucible/config.yaml', '.crucible/program.md', '.gitignore']) {
      expect(existsSync(path.join(tmp, 'sorting', file)), file).toBe(true);
    }
    const again = await runCli(tmp, 'new', 'sorting', '-e', 'optimize-sorting');
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/not empty/);
  });

  it('answers bad input with a one-line error and its exit code', async () => {
    const unknown = await runCli(tmp, 'frobnicate');
    expect(unknown.code).toBe(2);
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    const noConfig = await runCli(empty, 'status');
    expect(noConfig.code).toBe(3);
    expect(noConfig.stderr).toMatch(/config\.yaml/);
    expect(noConfig.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

// A project whose experiment costs a few milliseconds: the tuner edits two shell constants and the
// eval command computes the metric from them (lowest at X=1, Y=0).
const TINY_CONFIG = `name: tiny
files:
  editable: [params.sh]
commands:
  run: "true"
  eval: '. ./params.sh; echo "score: $((X * X + Y))"'
metric:
  name: score
  direction: minimize
constraints:
  timeout_seconds: 20
  max_retries: 50
agent:
  type: tuner
`;

describe('a run of the tuner on a tiny project', () => {
  let project: string;
  const results: Record<string, CliResult> = {};

  beforeAll(async () => {
    project = path.join(tmp, 'tiny');
    mkdirSync(path.join(project, '.crucible'), { recursive: true });
    writeFileSync(path.join(project, '.crucible', 'config.yaml'), TINY_CONFIG);
    writeFileSync(path.join(project, '.crucible', 'program.md'), 'Make the score as low as possible by tuning params.sh.\n');
    writeFileSync(path.join(project, 'params.sh'), 'X=500 # @tune 1..1000 int\nY=7 # @tune 0..1000 int\n');
    const git = (...args: string[]): string =>
      execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], { cwd: project, env: cliEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'initial');
    // The user's own untracked file: crucible must leave it exactly as it is.
    writeFileSync(path.join(project, 'notes.txt'), 'my notes\n');

    results['validate'] = await runCli(project, 'validate');
    results['run1'] = await runCli(project, 'run', '--tag', 'r1', '--agent', 'tuner', '-n', '3', '--no-interactive');
    results['status1'] = await runCli(project, 'status', '--json');
    results['history1'] = await runCli(project, 'history', '--json');
    results['postmortem1'] = await runCli(project, 'postmortem', '--json');
    results['run2'] = await runCli(project, 'run', '--tag', 'r2', '--agent', 'tuner', '-n', '2', '--no-interactive');
    results['compare'] = await runCli(project, 'compare', 'r1', 'r2');
    results['compareJson'] = await runCli(project, 'compare', 'r1', 'r2', '--json');
  }, 60_000);

  it('validates the project', () => {
    const result = results['validate']!;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/score: 250007/);
  });

  it('runs a baseline and three trials, then stops with exit code 0', () => {
    const result = results['run1']!;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/trial\s+0\s+baseline/);
    expect(result.stderr).toMatch(/trial\s+3\s/);
    expect(result.stderr).not.toMatch(/trial\s+4\s/);
  });

  it('reports the run with status --json: three trials and the baseline', () => {
    const status = parseJson<{ tag: string; total: number; baseline: { metric: number } | null; best: { metric: number } | null }>(results['status1']!);
    expect(status.tag).toBe('r1');
    expect(status.total).toBe(3);
    expect(status.baseline?.metric).toBe(250007);
    expect(status.best?.metric).toBeLessThanOrEqual(250007);
  });

  it('lists every trial with history --json, the baseline first', () => {
    const rows = parseJson<{ trial: number; status: string }[]>(results['history1']!);
    expect(rows.map((r) => r.trial)).toEqual([0, 1, 2, 3]);
    expect(rows[0]?.status).toBe('baseline');
  });

  it('analyses the run with postmortem --json', () => {
    const postmortem = parseJson<{ total: number; baseline_metric: number; trend: unknown[] }>(results['postmortem1']!);
    expect(postmortem.total).toBe(3);
    expect(postmortem.baseline_metric).toBe(250007);
    expect(postmortem.trend).toHaveLength(4);
  });

  it('compares two runs, as a table and as JSON', () => {
    expect(results['run2']!.code, results['run2']!.stderr).toBe(0);
    const table = results['compare']!;
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/r1/);
    expect(table.stdout).toMatch(/r2/);
    const json = parseJson<Record<string, { iterations: number }>>(results['compareJson']!);
    expect(json['r1']?.iterations).toBe(3);
    expect(json['r2']?.iterations).toBe(2);
  });

  it("leaves the user's untracked file alone", () => {
    expect(readFileSync(path.join(project, 'notes.txt'), 'utf8')).toBe('my notes\n');
  });
});

describe('the installed command and NODE_EXTRA_CA_CERTS', () => {
  let probe: string;
  let seen: string;
  const caFile = '/nonexistent/extra-ca.pem';

  beforeAll(() => {
    // Loaded by Node before crucible's own code (NODE_OPTIONS=--require): it records the
    // environment Node started with, and the one crucible leaves at its exit.
    probe = path.join(tmp, 'env-probe.cjs');
    seen = path.join(tmp, 'env-seen.json');
    writeFileSync(
      probe,
      `const pick = () => ({ ca: process.env.NODE_EXTRA_CA_CERTS ?? null, held: process.env.CRUCIBLE_HELD_EXTRA_CA_CERTS ?? null });
const atStart = pick();
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ atStart, atExit: pick() })));
`,
    );
  });

  async function startedWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ result: CliResult; atStart: unknown; atExit: unknown }> {
    rmSync(seen, { force: true });
    const saved = cliEnv;
    cliEnv = { ...cliEnv, ...env, NODE_OPTIONS: `--require ${probe}` };
    try {
      const result = await runCli(tmp, ...args);
      const { atStart, atExit } = JSON.parse(readFileSync(seen, 'utf8')) as { atStart: unknown; atExit: unknown };
      return { result, atStart, atExit };
    } finally {
      cliEnv = saved;
    }
  }

  it('starts the read commands without it, and gives it back to the environment at once', async () => {
    const project = path.join(tmp, 'tiny');
    for (const args of [['--help'], ['--version'], ['-C', project, 'status'], ['-v', '--project-dir', project, 'history'], ['help', 'run'], ['-C', project, 'postmortem', '--json']]) {
      const { result, atStart, atExit } = await startedWith({ NODE_EXTRA_CA_CERTS: caFile }, ...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      // Node reads the file as it starts: a missing one gets a warning, which these never print.
      expect(result.stderr, args.join(' ')).not.toMatch(/extra certs/);
      expect(atStart, args.join(' ')).toEqual({ ca: null, held: caFile });
      expect(atExit, args.join(' ')).toEqual({ ca: caFile, held: null });
    }
  });

  it('starts every other command with it, as Node would', async () => {
    for (const args of [['run', '--help'], ['validate', '--help'], ['postmortem', '--json', '--ai', '--help'], ['-C', 'status', 'wizard', '--help']]) {
      const { atStart, atExit } = await startedWith({ NODE_EXTRA_CA_CERTS: caFile }, ...args);
      expect(atStart, args.join(' ')).toEqual({ ca: caFile, held: null });
      expect(atExit, args.join(' ')).toEqual({ ca: caFile, held: null });
    }
  });

  it('adds nothing to the environment where it is not set, and passes every argument as it is', async () => {
    const { atStart, atExit } = await startedWith({ NODE_EXTRA_CA_CERTS: undefined }, 'status');
    expect(atStart).toEqual({ ca: null, held: null });
    expect(atExit).toEqual({ ca: null, held: null });
    const odd = await runCli(tmp, '-C', path.join(tmp, 'tiny'), 'status', '--tag', 'two "words" $HOME *');
    expect(odd.code).toBe(2);
    expect(odd.stderr).toContain('invalid run tag "two \\"words\\" $HOME *"');
  });
});
