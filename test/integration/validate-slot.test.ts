import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateProject, type Check } from '../../src/project/validate-project.js';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, runCli, type TinyProject } from '../helpers/project.js';
import { sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * `crucible validate --workers N`: the experiment runs once more, in a slot at HEAD, and when it
 * fails there but works in the project folder, what the slot lacks is named.
 */

// Reads untracked files (as a real experiment reads its data set); the score tells which slot ran it.
const BENCH = `import { readFileSync } from 'node:fs';
const input = readFileSync('data/input.txt', 'utf8');
const weights = readFileSync('weights.bin', 'utf8');
console.log(\`score: \${input.trim().length + weights.length + 100 * Number(process.env.CRUCIBLE_SLOT ?? 0)}\`);
`;

let project: TinyProject | undefined;
afterEach(() => {
  project?.cleanup();
  project = undefined;
});

function benchProject(options: { shared?: string; workers?: number; bench?: string; sandbox?: string } = {}): TinyProject {
  project = createTinyProject({
    ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
    files: { 'bench.js': options.bench ?? BENCH },
    untracked: { 'data/input.txt': '1234\n', 'weights.bin': 'ww', 'notes.txt': 'mine\n' },
    configText: [
      'name: tiny',
      'files:',
      '  editable: [solution.js]',
      '  hidden: [bench.js]',
      ...(options.shared === undefined ? [] : [`  shared: ${options.shared}`]),
      'commands:',
      '  run: node bench.js > run.log 2>&1',
      '  eval: cat run.log',
      'metric: { name: score, direction: maximize }',
      'agent: { type: tuner }',
      ...(options.workers === undefined ? [] : [`parallel: { workers: ${options.workers} }`]),
      '',
    ].join('\n'),
  });
  return project;
}

const slotChecks = (checks: Check[]): Check[] => checks.filter((c) => c.name === 'Slot');

function expectNoSlotLeft(p: TinyProject): void {
  const root = path.join(p.dir, '.crucible', 'slots');
  expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
  expect(git(p.dir, 'worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  expect(git(p.dir, 'status', '--porcelain', '--untracked-files=all')).not.toContain('.crucible');
}

describe('validate with workers > 1', () => {
  it('runs the experiment in a slot too, with the shared files linked in, and reports its metric', async () => {
    const p = benchProject({ shared: '[data, weights.bin]' });
    const checks = await validateProject(p.dir, { env: p.env, workers: 2 });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(slotChecks(checks)).toEqual([{ name: 'Slot', status: 'pass', message: 'in slot 1 (.crucible/slots/1): score: 106' }]);
    expectNoSlotLeft(p);
  });

  it('names the untracked file the failure mentions when it is missing from the slot', async () => {
    const p = benchProject();
    const checks = await validateProject(p.dir, { env: p.env, workers: 2 });
    expect(checks.find((c) => c.name === 'Eval/metric')).toMatchObject({ status: 'pass' });
    expect(slotChecks(checks)).toEqual([
      { name: 'Slot', status: 'fail', message: 'in a slot the experiment failed: data/ is not in git and not in files.shared (add it to files.shared)' },
    ]);
    expectNoSlotLeft(p);
  });

  it('names every untracked thing the slot lacks when the failure names none of them', async () => {
    const p = benchProject({ bench: `import { existsSync } from 'node:fs';\nif (!existsSync('weights.bin')) { console.error('cannot start'); process.exit(1); }\nconsole.log('score: 1');\n` });
    const checks = await validateProject(p.dir, { env: p.env, workers: 2 });
    expect(slotChecks(checks)).toEqual([
      { name: 'Slot', status: 'fail', message: 'in a slot the experiment failed: data/, notes.txt and weights.bin are not in git and not in files.shared (add them to files.shared)' },
    ]);
  });

  it.skipIf(!sandboxSupport.ok)(`runs it under the slot's sandbox when there is one${skipReason}`, async () => {
    const p = benchProject({ shared: '[data, weights.bin]', sandbox: 'true' });
    const checks = await validateProject(p.dir, { env: p.env, workers: 2 });
    expect(slotChecks(checks)).toEqual([{ name: 'Slot', status: 'pass', message: 'in slot 1 (.crucible/slots/1): score: 106' }]);
    expectNoSlotLeft(p);
  });

  it('checks a slot when parallel.workers > 1 in the config, and not for one worker', async () => {
    const p = benchProject({ workers: 2, shared: '[data, weights.bin]' });
    expect(slotChecks(await validateProject(p.dir, { env: p.env }))).toMatchObject([{ status: 'pass' }]);
    expect(slotChecks(await validateProject(p.dir, { env: p.env, workers: 1 }))).toEqual([]);
  });

  it('refuses to touch the slots while a run holds the folder', async () => {
    const p = benchProject({ shared: '[data, weights.bin]' });
    const { acquireRunLock } = await import('../../src/store/run-lock.js');
    const lock = await acquireRunLock(path.join(p.dir, '.crucible', 'runs'));
    try {
      const [slot] = slotChecks(await validateProject(p.dir, { env: p.env, workers: 2 }));
      expect(slot).toMatchObject({ status: 'fail', message: expect.stringMatching(/^a crucible run in this folder is already running/) as unknown });
    } finally {
      lock.release();
    }
  });
});

describe('crucible validate --workers', () => {
  beforeAll(() => checkCliBuilt());

  it('prints the slot line and fails (exit 1) when the slot lacks a file', async () => {
    const p = benchProject();
    const result = await runCli(p, ['validate', '--workers', '2']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[FAIL] Slot: in a slot the experiment failed: data/ is not in git and not in files.shared (add it to files.shared)');
    const bad = await runCli(p, ['validate', '--workers', '0']);
    expect(bad.code).toBe(2);
  });
});
