import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InFlightTrial, ProposalRequest, TrialView } from '../../src/agents/types.js';
import type { Outcome } from '../../src/core/outcome.js';
import { createAgentBackend } from '../../src/agents/registry.js';
import { parseDescription } from '../../src/agents/tuner/description.js';
import { createRng, hashSeed } from '../../src/agents/tuner/rng.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SORT = 'export function sort(xs) {\n  const INSERTION_CUTOFF = 8; // @tune 2..256 int log\n  return xs;\n}\n';
const TRAIN = 'import math\n\nLEARNING_RATE = 0.01  # @tune 1e-5..1 log\nEPOCHS = 3\n';
const SMALL = 'WIDTH = 4  # @tune 1..9 int\n';

type Files = Record<string, string>;

function makeWorkspace(files: Files): string {
  const root = mkdtempSync(path.join(tmpdir(), 'crucible-tuner-par-'));
  dirs.push(root);
  writeFiles(root, files);
  return root;
}

function writeFiles(root: string, files: Files): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), text);
  }
}

function readFiles(root: string, names: readonly string[]): Files {
  return Object.fromEntries(names.map((name) => [name, readFileSync(path.join(root, name), 'utf8')]));
}

function request(root: string, trial: number, history: readonly TrialView[], inFlight: readonly InFlightTrial[], seed = 0): ProposalRequest {
  const artifactDir = path.join(root, '.crucible', 'trials', String(trial));
  mkdirSync(artifactDir, { recursive: true });
  return {
    trial,
    prompt: '',
    systemPrompt: '',
    workspace: { root, policy: createAccessPolicy({ editable: ['src/', '*.py'], readonly: [], hidden: [] }) },
    history: [...history],
    inFlight: [...inFlight],
    objective: { name: 'cost', direction: 'minimize' },
    agentConfig: agentConfigWith({ type: 'tuner', timeout_seconds: 60, tuner: { seed, max_changes: 2 } }),
    artifactDir,
  };
}

const signal = new AbortController().signal;

/** The values of the marked constants in a set of files, as one comparable string. */
function pointOf(files: Files): string {
  return Object.values(files)
    .flatMap((text) => [...text.matchAll(/^\s*(?:const )?(\w+) = (\S+?);? +(?:\/\/|#) @tune/gm)].map((m) => `${m[1]}=${Number(m[2])}`))
    .sort()
    .join(' ');
}

/** The "experiment": a bowl with its optimum at CUTOFF = 48, LR = 0.003 (lower is better). */
function measure(files: Files): number {
  const cutoff = Number(/INSERTION_CUTOFF = (\S+);/.exec(files['src/sort.js']!)![1]);
  const lr = Number(/LEARNING_RATE = (\S+) /.exec(files['train.py']!)![1]);
  return Math.log(cutoff / 48) ** 2 + Math.log(lr / 0.003) ** 2;
}

/** A described change applied to other files, the way a rebase would: null when a constant moved (a conflict). */
function rebase(files: Files, description: string): Files | null {
  const out = { ...files };
  for (const change of parseDescription(description) ?? []) {
    const name = Object.keys(out).find((file) => new RegExp(`\\b${change.name} = `).test(out[file]!))!;
    const line = new RegExp(`(\\b${change.name} = )(\\S+?)(;? +(?://|#) @tune)`);
    const current = Number(line.exec(out[name]!)![2]);
    if (current !== change.from) return null;
    out[name] = out[name]!.replace(line, `$1${change.to}$3`);
  }
  return out;
}

interface Flight {
  trial: number;
  root: string;
  /** The incumbent's version when the proposal started. */
  base: number;
  description: string;
}

/**
 * A scheduler in miniature over real workspaces: `width` proposals in flight, results coming back in
 * a seeded random order, the keep rule of the design note (a change proposed on an older best is
 * rebased onto the current one, stale on a conflict, kept only when better than the current best).
 */
async function simulate(seed: number, finished: number, width = 4) {
  const backend = createAgentBackend('tuner');
  const order = createRng(hashSeed('order', seed));
  const names = ['src/sort.js', 'train.py'];
  const roots = Array.from({ length: width }, () => makeWorkspace({ 'src/sort.js': SORT, 'train.py': TRAIN }));
  let incumbent = { files: readFiles(roots[0]!, names), version: 0 };
  const start = measure(incumbent.files);
  let best = start;
  const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: start, description: 'baseline' }];
  const flights: Flight[] = [];
  const measured = new Set<string>([pointOf(incumbent.files)]);
  let nextTrial = 1;
  let duplicates = 0;
  let remeasured = 0;

  const launch = async (roots: readonly string[]) => {
    await Promise.all(
      roots.map(async (root) => {
        writeFiles(root, incumbent.files);
        const trial = nextTrial++;
        // Like the scheduler: in flight = proposals whose agent turn is done; the ones being asked
        // alongside this one are not there yet, and the backend must remember them itself.
        const inFlight = flights.map(({ trial, description }) => ({ trial, description, files: names }));
        const flight: Flight = { trial, root, base: incumbent.version, description: '' };
        const proposal = await backend.propose(request(root, trial, history, inFlight, seed), signal);
        flight.description = proposal.description;
        flights.push(flight);
      }),
    );
    flights.sort((a, b) => a.trial - b.trial);
  };

  await launch(roots);
  while (history.length <= finished) {
    // Where each proposal in flight will be measured, seen from the current best.
    const points = flights.map((f) => pointOf(rebase(incumbent.files, f.description) ?? readFiles(f.root, names)));
    duplicates += points.length - new Set(points).size;
    const done: Flight[] = [];
    for (let k = 1 + Math.floor(order() * Math.min(3, flights.length)); k > 0; k--) {
      const [flight] = flights.splice(Math.floor(order() * flights.length), 1);
      done.push(flight!);
    }
    for (const flight of done) {
      const files = flight.base === incumbent.version ? readFiles(flight.root, names) : rebase(incumbent.files, flight.description);
      let outcome: Outcome = 'stale';
      let metric: number | null = null;
      if (files !== null) {
        if (measured.has(pointOf(files))) remeasured++;
        measured.add(pointOf(files));
        metric = measure(files);
        outcome = metric < best ? 'keep' : 'discard';
        if (outcome === 'keep') {
          best = metric;
          incumbent = { files, version: incumbent.version + 1 };
        }
      }
      history.push({ trial: flight.trial, outcome, metric, description: flight.description });
    }
    await launch(done.map((f) => f.root));
  }
  return { start, best, duplicates, remeasured, history, stale: history.filter((t) => t.outcome === 'stale').length };
}

describe('tuner backend with proposals in flight', () => {
  it('gives four overlapping proposals four different points, in order of the calls', async () => {
    for (let seed = 0; seed < 25; seed++) {
      const backend = createAgentBackend('tuner');
      const roots = Array.from({ length: 4 }, () => makeWorkspace({ 'w.py': SMALL }));
      const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
      const proposals = await Promise.all(roots.map((root, i) => backend.propose(request(root, i + 1, history, [], seed), signal)));
      const points = roots.map((root) => pointOf(readFiles(root, ['w.py'])));
      expect(new Set(points).size).toBe(4);
      expect(points).not.toContain('WIDTH=4');
      // The same calls again, on a fresh backend: the same points for the same trials.
      const again = createAgentBackend('tuner');
      const replay = await Promise.all(roots.map((root, i) => again.propose(request(makeWorkspace({ 'w.py': SMALL }), i + 1, history, [], seed), signal)));
      expect(replay.map((p) => p.description)).toEqual(proposals.map((p) => p.description));
    }
  });

  it('holds a point until its result is in the history, and frees it when that result is stale', async () => {
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    let collisions = 0;
    for (let seed = 0; seed < 40; seed++) {
      const backend = createAgentBackend('tuner');
      const first = await backend.propose(request(makeWorkspace({ 'w.py': SMALL }), 1, history, [], seed), signal);
      const alone = await createAgentBackend('tuner').propose(request(makeWorkspace({ 'w.py': SMALL }), 2, history, [], seed), signal);
      if (alone.description !== first.description) continue;
      collisions++;
      // Trial 1 still in flight: trial 2 goes elsewhere. Trial 1 back as stale (never measured): its point is free.
      const busy = await backend.propose(request(makeWorkspace({ 'w.py': SMALL }), 2, history, [], seed), signal);
      expect(busy.description).not.toBe(first.description);
      const stale = [...history, { trial: 1, outcome: 'stale' as const, metric: null, description: first.description }];
      const freed = await backend.propose(request(makeWorkspace({ 'w.py': SMALL }), 3, stale, [], seed), signal);
      const freedAlone = await createAgentBackend('tuner').propose(request(makeWorkspace({ 'w.py': SMALL }), 3, stale, [], seed), signal);
      expect(freed.description).toBe(freedAlone.description);
    }
    expect(collisions).toBeGreaterThan(0);
  });

  it('avoids the points a resumed run finds in flight, with nothing in memory', async () => {
    const history: TrialView[] = [{ trial: 0, outcome: 'baseline', metric: 1, description: 'baseline' }];
    for (let seed = 0; seed < 25; seed++) {
      const alone = await createAgentBackend('tuner').propose(request(makeWorkspace({ 'w.py': SMALL }), 5, history, [], seed), signal);
      const inFlight = [{ trial: 4, description: alone.description, files: ['w.py'] }];
      const fresh = await createAgentBackend('tuner').propose(request(makeWorkspace({ 'w.py': SMALL }), 5, history, inFlight, seed), signal);
      expect(fresh.description).not.toBe(alone.description);
    }
  });

  it('keeps learning from results that come back in any order, and finds the best region', async () => {
    let duplicates = 0;
    let remeasured = 0;
    for (const seed of [0, 1, 2]) {
      const run = await simulate(seed, 60);
      expect(run.best).toBeLessThan(run.start * 0.05);
      duplicates += run.duplicates;
      remeasured += run.remeasured;
    }
    expect(duplicates).toBe(0);
    expect(remeasured).toBe(0);
    // The same run again: the same trials, whatever the file reads' timing.
    const a = await simulate(7, 30);
    const b = await simulate(7, 30);
    expect(b.history).toEqual(a.history);
  });
});
