import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git, testGitEnv, writeFiles } from '../helpers/git-repo.js';
import { findInconsistencies, ledgerEvents, resultRows } from '../helpers/project.js';

/**
 * The keep rule under random interleavings: a seeded command agent changes one of three files
 * (a clean rebase when another trial changed a different one, a conflict when the same) and takes
 * a random time; each experiment takes a random time and scores the sum of the three files. Over
 * many seeds, whatever order proposals and results come in: every trial is recorded once, every
 * keep was measured on top of the incumbent it replaced, keeps only ever improve, and the run
 * branch holds exactly the code whose score is the best recorded.
 */

const AGENT = `import { readFileSync, writeFileSync } from 'node:fs';
const ctl = process.argv[2];
const trial = Number(process.env.CRUCIBLE_TRIAL);
const seed = Number(readFileSync(ctl + '/seed', 'utf8'));
let s = (seed * 7919 + trial * 104729) >>> 0;
const rand = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const file = ['a.txt', 'b.txt', 'c.txt'][Math.floor(rand() * 3)];
writeFileSync(file, String(Math.floor(rand() * 30)) + '\\n');
writeFileSync(ctl + '/delay-' + trial, (rand() * 0.4).toFixed(2));
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.floor(rand() * 300));
console.log('set ' + file);
`;

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function createProject(seed: number, parallel: string): { dir: string; env: NodeJS.ProcessEnv } {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-prop-')));
  roots.push(root);
  const dir = path.join(root, 'proj');
  const ctl = path.join(root, 'ctl');
  mkdirSync(ctl, { recursive: true });
  writeFileSync(path.join(ctl, 'seed'), String(seed));
  writeFileSync(path.join(root, 'agent.mjs'), AGENT);
  writeFiles(dir, {
    '.crucible/config.yaml': [
      'name: prop',
      'files:',
      '  editable: [a.txt, b.txt, c.txt]',
      '  hidden: [eval.sh]',
      'commands:',
      '  run: sh eval.sh > run.log 2>&1',
      '  eval: cat run.log',
      'metric: { name: score, direction: maximize }',
      'constraints: { timeout_seconds: 20, max_retries: 1000 }',
      'agent:',
      '  type: command',
      `  command: node ${JSON.stringify(path.join(root, 'agent.mjs'))} ${JSON.stringify(ctl)}`,
      '  timeout_seconds: 20',
      `parallel: ${parallel}`,
      'sandbox: false',
      '',
    ].join('\n'),
    '.gitignore': 'results.tsv\n.crucible/runs/\nrun.log\n',
    'a.txt': '1\n',
    'b.txt': '1\n',
    'c.txt': '1\n',
    'eval.sh': `d=$(cat ${JSON.stringify(ctl)}/delay-$CRUCIBLE_TRIAL 2>/dev/null || echo 0)\nsleep "$d"\necho "score: $(( $(cat a.txt) + $(cat b.txt) + $(cat c.txt) ))"\n`,
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return { dir, env: { ...testGitEnv, NO_COLOR: '1', CRUCIBLE_WORKTREE_DIR: path.join(root, 'worktrees') } };
}

function scoreAt(dir: string, ref: string): number {
  return ['a.txt', 'b.txt', 'c.txt'].reduce((sum, file) => sum + Number(git(dir, 'show', `${ref}:${file}`)), 0);
}

async function checkSeed(seed: number, parallel: string, trials: number): Promise<void> {
  const { dir, env } = createProject(seed, parallel);
  await startRun({ projectDir: dir, tag: 't', env, maxIterations: trials });
  const problems = findInconsistencies(dir, 't');
  expect(problems, `seed ${seed}`).toEqual([]);
  const rows = resultRows(dir, 't');
  // Every proposal became one trial (re-measures add more).
  expect(rows.filter((r) => r['trial'] !== '0' && !ledgerEvents(dir, 't').some((e) => e.type === 'trial.start' && e.n === Number(r['trial']) && e['remeasureOf'] !== undefined))).toHaveLength(trials);
  // Keeps, in the order they were decided, only ever improve on the one before.
  const kept = ledgerEvents(dir, 't')
    .filter((e) => e.type === 'trial.end')
    .map((e) => e['summary'] as { outcome: string; metric: number })
    .filter((t) => t.outcome === 'keep' || t.outcome === 'baseline')
    .map((t) => t.metric);
  for (let i = 1; i < kept.length; i++) expect(kept[i], `seed ${seed}: keeps ${kept.join(', ')}`).toBeGreaterThan(kept[i - 1]!);
  // The branch holds the code of the best record, and its score is that record's.
  expect(scoreAt(dir, 'crucible/t'), `seed ${seed}`).toBe(kept.at(-1));
}

describe('the keep rule under random interleavings (seeded)', () => {
  it('one slot, three proposals in flight', async () => {
    for (let seed = 1; seed <= 4; seed++) await checkSeed(seed, '{ agents: 3 }', 8);
  }, 240_000);

  it('two slots, three proposals in flight', async () => {
    for (let seed = 11; seed <= 14; seed++) await checkSeed(seed, '{ workers: 2, agents: 3 }', 8);
  }, 240_000);

  it('three slots, four proposals in flight', async () => {
    for (let seed = 21; seed <= 23; seed++) await checkSeed(seed, '{ workers: 3, agents: 4 }', 10);
  }, 240_000);
});
