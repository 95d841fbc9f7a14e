import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { agentRecord, checkCliBuilt, createTinyProject, killLeftovers, planAgent, runCli, type CliResult, type TinyProject } from '../helpers/project.js';

/**
 * Issue 7, class 12: the smaller answers a user gets wrong or not at all. Each test runs the built
 * CLI and checks the exit code and the one line a user sees.
 */

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('error:'));
}

function expectOneLine(result: CliResult): string {
  const errors = errorLines(result);
  expect(errors, result.stderr).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at |internal error/);
  return errors[0]!;
}

/** The tiny project's config (command agent) with its `files:` lines replaced. */
function configWithFiles(files: string[]): string {
  return [
    'name: tiny',
    'files:',
    ...files.map((line) => `  ${line}`),
    'commands:',
    '  run: node evaluate.js > run.log 2>&1',
    '  eval: cat run.log',
    'metric:',
    '  name: score',
    '  direction: maximize',
    'agent:',
    '  type: command',
    '  command: node "$CRUCIBLE_TEST_AGENT"',
    '  timeout_seconds: 20',
    '',
  ].join('\n');
}

describe('a resumed run', () => {
  it('shows the gain vs the baseline measured in an earlier session', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 40 } });
    const first = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(first.code, first.stderr).toBe(0);
    const resumed = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const keep = resumed.stderr.split('\n').find((line) => /trial\s+2\s+keep/.test(line));
    expect(keep, resumed.stderr).toMatch(/score\s+40 \+3900\.0% vs baseline/);
  });
});

describe('read commands refuse an invalid tag as a bad command line (exit 2)', () => {
  const cases: [string, string[]][] = [
    ['status', ['status', '--tag', '../x']],
    ['history', ['history', '--tag', '../x']],
    ['postmortem', ['postmortem', '--tag', '../x']],
    ['compare', ['compare', '../x', 't']],
    ['run --fork', ['run', '--tag', 't', '--fork', '../x']],
  ];
  it.each(cases)('%s', async (_name, args) => {
    const p = createTinyProject();
    project = p;
    const result = await runCli(p, args);
    expect(result.code, result.stderr).toBe(2);
    expect(expectOneLine(result)).toContain('invalid run tag "../x"');
  });
});

describe('-C naming something that is not a folder', () => {
  it.each([['status'], ['run', '--tag', 't'], ['validate']])('%s: exit 2, "is a file, not a folder"', async (...args) => {
    const p = createTinyProject();
    project = p;
    const file = path.join(p.root, 'a-file');
    writeFileSync(file, 'not a project\n');
    const result = await runCli(p, ['-C', file, ...args]);
    expect(result.code, result.stderr).toBe(2);
    const line = expectOneLine(result);
    expect(line).toContain(`${file} is a file, not a folder`);
    expect(line).not.toMatch(/config/);
  });

  it('a path that does not exist: exit 2, naming it', async () => {
    const p = createTinyProject();
    project = p;
    const missing = path.join(p.root, 'no-such-folder');
    const result = await runCli(p, ['-C', missing, 'status']);
    expect(result.code, result.stderr).toBe(2);
    expect(expectOneLine(result)).toContain(`no folder ${missing}`);
  });
});

describe('a refused --fork', () => {
  it('exits 4 naming the run, and leaves no run folder and no branch', async () => {
    const p = createTinyProject();
    project = p;
    const result = await runCli(p, ['run', '--tag', 't2', '--fork', 'nosuch', '-n', '1']);
    expect(result.code, result.stderr).toBe(4);
    expect(expectOneLine(result)).toContain('cannot fork from run "nosuch"');
    expect(existsSync(path.join(p.dir, '.crucible', 'runs', 't2'))).toBe(false);
    expect(existsSync(path.join(p.dir, '.crucible', 'runs'))).toBe(false);
    expect(git(p.dir, 'branch', '--list', 'crucible/*')).toBe('');
  });

  it('beside an existing run: only the refused run leaves nothing', async () => {
    const p = createTinyProject();
    project = p;
    expect((await runCli(p, ['run', '--tag', 't', '-n', '1'])).code).toBe(0);
    const result = await runCli(p, ['run', '--tag', 't2', '--fork', 'nosuch', '-n', '1']);
    expect(result.code, result.stderr).toBe(4);
    expect(existsSync(path.join(p.dir, '.crucible', 'runs', 't2'))).toBe(false);
    expect(existsSync(path.join(p.dir, '.crucible', 'runs', 't', 'ledger.jsonl'))).toBe(true);
  });
});

describe('crucible new with an unknown example', () => {
  it('exits 2 (bad command line), naming the examples, and creates nothing', async () => {
    const p = createTinyProject();
    project = p;
    const dest = path.join(p.root, 'fresh');
    const result = await runCli(p, ['new', dest, '-e', 'no-such-example']);
    expect(result.code, result.stderr).toBe(2);
    expect(expectOneLine(result)).toMatch(/unknown example "no-such-example"; available: .*optimize-sorting/);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('a files entry that matches no file', () => {
  it('is named in a warning at run start, and by crucible validate', async () => {
    const p = createTinyProject({ agent: 'command', configText: configWithFiles(['editable: [solution.js, "lib/*.py", solutoin.js]', 'hidden: [evaluate.js]']) });
    project = p;
    git(p.dir, 'add', '-A');
    git(p.dir, 'commit', '-q', '-m', 'config');
    const run = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(run.code, run.stderr).toBe(0);
    const warnings = run.stderr.split('\n').filter((line) => line.startsWith('warning:'));
    expect(warnings).toContain('warning: .crucible/config.yaml: files.editable: "lib/*.py" matches no file in the project');
    expect(warnings).toContain('warning: .crucible/config.yaml: files.editable: "solutoin.js" matches no file in the project');
    expect(warnings.filter((w) => w.includes('solution.js"'))).toEqual([]);

    const validate = await runCli(p, ['validate']);
    expect(validate.stdout).toContain('[WARN] Files: files.editable: "lib/*.py" matches no file in the project');
  });
});

describe('a file listed both readonly and hidden', () => {
  it('is accepted as hidden, with a warning naming it: the agent does not see it', async () => {
    const p = createTinyProject({ agent: 'command', configText: configWithFiles(['editable: [solution.js]', 'readonly: [package.json, evaluate.js]', 'hidden: [evaluate.js]']) });
    project = p;
    git(p.dir, 'add', '-A');
    git(p.dir, 'commit', '-q', '-m', 'config');
    planAgent(p, { 1: { x: 5 } });
    const run = await runCli(p, ['run', '--tag', 't', '-n', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/warning: \.crucible\/config\.yaml:\d+: files\.hidden\.0: "evaluate\.js" is also listed in files\.readonly; it is hidden/);
    const seen = agentRecord(p, 1);
    expect(seen?.entries).not.toContain('evaluate.js');
    expect(seen?.catHidden.ok).toBe(false);

    const validate = await runCli(p, ['validate']);
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/\[WARN\] Config: .*"evaluate\.js" is also listed in files\.readonly/);
  });
});
