import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { AgentError } from '../../src/errors.js';
import type { ProposalRequest, TrialView } from '../../src/agents/types.js';
import { createAgentBackend } from '../../src/agents/registry.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function makeWorkspace(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'crucible-tuner-'));
  dirs.push(root);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
  return root;
}

function agentConfig(seed = 0, maxChanges = 2): Config['agent'] {
  return agentConfigWith({ type: 'tuner', timeout_seconds: 60, tuner: { seed, max_changes: maxChanges } });
}

function request(root: string, trial: number, history: readonly TrialView[], editable: string[], seed = 0): ProposalRequest {
  const artifactDir = path.join(root, '.crucible', 'trials', String(trial));
  mkdirSync(artifactDir, { recursive: true });
  return {
    trial,
    prompt: '',
    systemPrompt: '',
    workspace: { root, policy: createAccessPolicy({ editable, readonly: ['eval.js'], hidden: [] }) },
    history,
    objective: { name: 'cost', direction: 'minimize' },
    agentConfig: agentConfig(seed),
    artifactDir,
  };
}

const SORT = 'export function sort(xs) {\n  const INSERTION_CUTOFF = 8; // @tune 2..256 int log\n  return xs;\n}\n';
const TRAIN = 'import math\n\nLEARNING_RATE = 0.01  # @tune 1e-5..1 log\nEPOCHS = 3\n';

/** The "experiment": a bowl with its optimum at CUTOFF = 48, LR = 0.003 (lower is better). */
function measure(root: string): { cost: number; cutoff: number; lr: number } {
  const cutoff = Number(/INSERTION_CUTOFF = (\S+);/.exec(readFileSync(path.join(root, 'src/sort.js'), 'utf8'))![1]);
  const lr = Number(/LEARNING_RATE = (\S+) /.exec(readFileSync(path.join(root, 'train.py'), 'utf8'))![1]);
  return { cost: Math.log(cutoff / 48) ** 2 + Math.log(lr / 0.003) ** 2, cutoff, lr };
}

/** The loop's keep/discard rule, on real files: keep only a strict improvement, else restore. */
async function simulate(seed: number, trials: number) {
  const root = makeWorkspace({ 'src/sort.js': SORT, 'train.py': TRAIN });
  const backend = createAgentBackend('tuner');
  const editable = ['src/', 'train.py'];
  const start = measure(root).cost;
  const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: start, description: 'baseline' }];
  let best = start;
  for (let trial = 1; trial <= trials; trial++) {
    const kept = { sort: readFileSync(path.join(root, 'src/sort.js')), train: readFileSync(path.join(root, 'train.py')) };
    const proposal = await backend.propose(request(root, trial, history, editable, seed), new AbortController().signal);
    const { cost } = measure(root);
    const keep = cost < best;
    if (keep) best = cost;
    else {
      writeFileSync(path.join(root, 'src/sort.js'), kept.sort);
      writeFileSync(path.join(root, 'train.py'), kept.train);
    }
    history.push({ trial, outcome: keep ? 'keep' : 'discard', metric: cost, description: proposal.description });
  }
  return { start, best, final: measure(root), descriptions: history.map((h) => h.description), root };
}

describe('tuner backend', () => {
  it('converges on the optimum of a simulated experiment, reproducibly', async () => {
    const run = await simulate(0, 40);
    expect(run.best).toBeLessThan(run.start * 0.05);
    expect(run.final.cutoff).toBeGreaterThan(30);
    expect(run.final.cutoff).toBeLessThan(75);
    expect(run.final.lr).toBeGreaterThan(0.0015);
    expect(run.final.lr).toBeLessThan(0.006);
    // The files say what the last kept trial says; the rest of each line is untouched.
    const sort = readFileSync(path.join(run.root, 'src/sort.js'), 'utf8');
    expect(sort).toBe(SORT.replace('= 8;', `= ${run.final.cutoff};`));
    expect(run.descriptions[1]).toMatch(/^(INSERTION_CUTOFF|LEARNING_RATE) [\d.e-]+ → [\d.e-]+/);

    const again = await simulate(0, 40);
    expect(again.descriptions).toEqual(run.descriptions);
    const other = await simulate(1, 40);
    expect(other.descriptions).not.toEqual(run.descriptions);
    expect(other.best).toBeLessThan(other.start * 0.05);
  });

  it('only reads editable files, skips node_modules, and writes an explanation', async () => {
    const root = makeWorkspace({
      'src/sort.js': SORT,
      'eval.js': 'const TARGET = 3; // @tune 1..9 int\n',
      'notes.md': 'K = 5 # @tune 1..9 int\n',
      'src/node_modules/x/index.js': 'const Y = 2; // @tune 1..9 int\n',
    });
    const req = request(root, 1, [], ['src/', 'eval.js']);
    const proposal = await createAgentBackend('tuner').propose(req, new AbortController().signal);
    expect(proposal.description).toMatch(/^INSERTION_CUTOFF 8 → \d+$/);
    expect(readFileSync(path.join(root, 'eval.js'), 'utf8')).toBe('const TARGET = 3; // @tune 1..9 int\n');
    expect(proposal.usage?.costUsd).toBe(0);
    const transcript = readFileSync(proposal.transcriptPath!, 'utf8');
    expect(transcript).toContain('INSERTION_CUTOFF = 8 (src/sort.js:2, 2..256 int log)');
    expect(transcript).toMatch(/INSERTION_CUTOFF: 8 → \d+ \((up|down) \d+% of its log range/);
  });

  it('qualifies clashing names with the file and keeps CRLF line endings', async () => {
    const root = makeWorkspace({ 'a.py': 'N = 4  # @tune 1..64 int\r\nM = 1\r\n', 'b.py': 'N = 4  # @tune 1..64 int\n' });
    const history: TrialView[] = [];
    const names = new Set<string>();
    for (let trial = 1; trial <= 6; trial++) {
      const { description } = await createAgentBackend('tuner').propose(request(root, trial, history, ['*.py']), new AbortController().signal);
      for (const part of description.split(', ')) names.add(part.split(' ')[0]!);
      history.push({ trial, outcome: 'keep', metric: -trial, description });
    }
    expect([...names].every((name) => name === 'a.py:N' || name === 'b.py:N')).toBe(true);
    expect(readFileSync(path.join(root, 'a.py'), 'utf8')).toMatch(/^N = \d+ {2}# @tune 1\.\.64 int\r\nM = 1\r\n$/);
  });

  it('explains what is wrong with the markers, naming file and line', async () => {
    const propose = (files: Record<string, string>) => {
      const root = makeWorkspace(files);
      return createAgentBackend('tuner').propose(request(root, 1, [], ['src/']), new AbortController().signal);
    };
    await expect(propose({ 'src/a.js': 'const X = 1;\n' })).rejects.toMatchObject({
      kind: 'fatal',
      message: 'no @tune markers found in the editable files (e.g. "const X = 8; // @tune 2..64 int log")',
    });
    const bad = propose({ 'src/a.js': 'const X = 1;\nconst Y = 8; // @tune 64..2 int\n' });
    await expect(bad).rejects.toBeInstanceOf(AgentError);
    await expect(bad).rejects.toMatchObject({ kind: 'fatal', message: 'src/a.js:2: @tune 64..2: LOW must be below HIGH' });
  });

  it('stops when canceled, before touching any file', async () => {
    const root = makeWorkspace({ 'src/sort.js': SORT });
    const controller = new AbortController();
    controller.abort();
    await expect(createAgentBackend('tuner').propose(request(root, 1, [], ['src/']), controller.signal)).rejects.toMatchObject({
      kind: 'failed',
      message: 'canceled',
    });
    expect(readFileSync(path.join(root, 'src/sort.js'), 'utf8')).toBe(SORT);
  });
});
