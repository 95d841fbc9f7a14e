/**
 * Ledger events for tests of the readers, and random ledgers of several trials in flight
 * (seeded: a failing seed replays).
 */
import type { Outcome } from '../../src/core/outcome.js';
import type { LedgerEvent } from '../../src/store/ledger.js';

// Events as the loop writes them (src/loop/run-trial.ts, evaluate-commit.ts, baseline.ts,
// finish-trial.ts), with a clock that ticks one second per event.
let clock = 0; // seconds
export const sha = (n: number): string => n.toString(16).padStart(40, '0');
export const ev = (type: string, fields: Record<string, unknown> = {}): LedgerEvent => ({ v: 1, ts: new Date(Date.UTC(2026, 0, 1) + 1000 * clock++).toISOString(), type, ...fields });
export const summaryOf = (n: number, outcome: Outcome, metric: number | null, commit = sha(100 + n)) => ({
  trial: n,
  outcome,
  metric,
  description: `trial ${n}`,
  commit,
  files: commit === '' ? [] : ['a.js'],
  best: null,
  agentMs: 10,
  runMs: 20,
  totalMs: 40,
  costUsd: null,
});

export const steps = {
  start: (n: number, parent: string) => ev('trial.start', { n, parent }),
  agent: (n: number) => ev('agent.done', { n, description: `trial ${n}`, files: ['a.js'], usage: null, ms: 10 }),
  commit: (n: number, parent: string) => [ev('guard', { n, outcome: 'ok', files: ['a.js'] }), ev('commit', { n, sha: sha(100 + n), parent }), ev('apply', { n, sha: sha(100 + n), files: ['a.js'] })],
  run: (n: number) => ev('run.start', { n, sha: sha(100 + n), handle: { executor: 'local', pgid: 5000 + n, processTag: `t-${n}` }, pgid: 5000 + n, processTag: `t-${n}` }),
  done: (n: number, metric: number | null) => ev('run.done', { n, exitCode: 0, signal: null, timedOut: false, metric, reason: null, ms: 20 }),
  decide: (n: number, outcome: Outcome, metric: number | null) => ev('decide', { n, outcome, metric, best: null, reason: 'r' }),
  end: (n: number, outcome: Outcome, metric: number | null, commit?: string) => ev('trial.end', { n, summary: summaryOf(n, outcome, metric, commit), at: `at-${n}` }),
};

/** A whole trial, from start to end, as the serial loop writes it. */
export function trial(n: number, parent: string, outcome: Outcome, metric: number | null): LedgerEvent[] {
  if (outcome === 'skip') return [steps.start(n, parent), steps.agent(n), ev('guard', { n, outcome: 'skip', reason: 'no files were changed' }), steps.end(n, 'skip', null, '')];
  const measured = [steps.start(n, parent), steps.agent(n), ...steps.commit(n, parent), steps.run(n), steps.done(n, metric), steps.decide(n, outcome, metric)];
  return [...measured, ...(outcome === 'keep' ? [] : [ev('reset', { n, to: parent })]), steps.end(n, outcome, metric)];
}
export const baseline = (metric: number): LedgerEvent[] => [ev('trial.start', { n: 0, parent: sha(1), baseline: true }), steps.run(0), steps.done(0, metric), steps.decide(0, 'baseline', metric), steps.end(0, 'baseline', metric, sha(1))];
export const header = [ev('run.create', { tag: 't', branch: 'crucible/t', from: sha(1), forkedFrom: null }), ev('session.start', { pid: 7, agent: 'tuner', head: sha(1) })];

/** mulberry32: a small seeded PRNG, so that a failing seed can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Plan {
  events: LedgerEvent[];
  started: Set<number>;
  ended: Map<number, { outcome: Outcome; metric: number | null }>;
}

/** Up to 30 trials, up to 4 in flight at once, each cut short at a random step or ended; noise between. */
export function randomLedger(random: () => number): Plan {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const count = 1 + Math.floor(random() * 30);
  const queues: LedgerEvent[][] = [];
  const started = new Set<number>();
  const ended = new Map<number, { outcome: Outcome; metric: number | null }>();
  for (let n = 0; n < count; n++) {
    const outcome = n === 0 ? 'baseline' : pick<Outcome>(['keep', 'keep', 'discard', 'crash', 'skip', 'violation', 'agent-error', 'stopped', 'interrupted']);
    const metric = outcome === 'baseline' || outcome === 'keep' || outcome === 'discard' ? Math.round(random() * 100) : random() < 0.2 ? 5 : null;
    const full = trial(n, sha(1), outcome === 'baseline' ? 'keep' : outcome, metric);
    const cut = random() < 0.25 ? 1 + Math.floor(random() * (full.length - 1)) : full.length;
    const queue = full.slice(0, cut);
    if (cut === full.length) {
      queue[queue.length - 1] = steps.end(n, outcome, metric);
      ended.set(n, { outcome, metric });
    }
    started.add(n);
    queues.push(queue);
  }
  const events: LedgerEvent[] = [];
  const active: LedgerEvent[][] = [];
  let next = 0;
  while (next < queues.length || active.length > 0) {
    if (next < queues.length && (active.length === 0 || (active.length < 4 && random() < 0.4))) active.push([...queues[next++]!]);
    const queue = pick(active);
    events.push(queue.shift()!);
    if (queue.length === 0) active.splice(active.indexOf(queue), 1);
    if (random() < 0.05) events.push(pick([ev('session.start', { pid: 1, agent: 'a', head: sha(1) }), ev('records.restored', { files: ['results.tsv'], during: 'x' }), ev('future.event', { n: 1 }), ev('commit', {}), ev('session.end', { n: 0, reason: 'hand-edited', trials: 1 })]));
  }
  return { events, started, ended };
}


/** What a trial of a parallel ledger should fold to: its phase while in flight, its base, slot and re-measure. */
export interface ExpectedNode {
  phase: 'agent' | 'queued' | 'running' | 'decided' | null;
  base: string;
  slot: number | null;
  remeasureOf: number | null;
}

export interface ParallelPlan extends Plan {
  expected: Map<number, ExpectedNode>;
}

/**
 * A trial as the scheduler writes it (issue 8's ledger contract): started from `parent`, maybe
 * rebased onto `onto`, maybe queued, measured in `slot`; a stale one ends without an experiment.
 */
export function parallelTrial(n: number, o: { parent: string; outcome: Outcome; metric: number | null; slot: number; onto?: string; queued?: boolean; remeasureOf?: number; commit?: string }): LedgerEvent[] {
  const base = o.onto ?? o.parent;
  const commit = o.commit ?? sha(100 + n);
  const start = ev('trial.start', { n, parent: o.parent, ...(o.remeasureOf === undefined ? {} : { remeasureOf: o.remeasureOf }) });
  const rebased = o.onto === undefined ? [] : [ev('rebase', { n, onto: o.onto, sha: sha(200 + n) })];
  const record = (outcome: Outcome, metric: number | null, at: string, ran: boolean) =>
    ev('trial.end', { n, summary: { ...summaryOf(n, outcome, metric, rebased.length > 0 ? sha(200 + n) : commit), parent: o.parent, base, ...(ran ? { slot: o.slot } : {}), ...(o.remeasureOf === undefined ? {} : { remeasureOf: o.remeasureOf }) }, at });
  const committed = [start, steps.agent(n), ev('guard', { n, outcome: 'ok', files: ['a.js'] }), ev('commit', { n, sha: commit, parent: o.parent, base: o.parent })];
  if (o.outcome === 'stale') return [...committed, ev('decide', { n, outcome: 'stale', metric: null, best: null, reason: 'conflict' }), record('stale', null, `at-${n}`, false)];
  const measured = rebased.length > 0 ? sha(200 + n) : commit;
  return [
    ...committed,
    ...rebased,
    ...(o.queued === true ? [ev('queued', { n })] : []),
    ev('run.start', { n, sha: measured, handle: { executor: 'local', pgid: 5000 + n, processTag: `t-${n}` }, slot: o.slot }),
    steps.done(n, o.metric),
    steps.decide(n, o.outcome, o.metric),
    ...(o.outcome === 'keep' || o.outcome === 'baseline' ? [ev('apply', { n, sha: measured, files: ['a.js'] })] : [ev('reset', { n, to: base })]),
    record(o.outcome, o.metric, `at-${n}`, true),
  ];
}

// The phase a trial cut short after `event` is in.
function phaseAfter(event: LedgerEvent): ExpectedNode['phase'] {
  switch (event.type) {
    case 'trial.start':
    case 'agent.done':
    case 'guard':
      return 'agent';
    case 'commit':
    case 'rebase':
    case 'queued':
      return 'queued';
    case 'run.start':
    case 'run.done':
      return 'running';
    default:
      return 'decided';
  }
}

/**
 * Up to 40 trials of a parallel run, up to `width` in flight, their events interleaved at random
 * (so they end out of order); some rebased, queued, stale or re-measuring an earlier one; a quarter
 * cut short at a random step. Seeded.
 */
export function randomParallelLedger(random: () => number, width = 4): ParallelPlan {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const count = 1 + Math.floor(random() * 40);
  const queues: LedgerEvent[][] = [];
  const started = new Set<number>();
  const ended = new Map<number, { outcome: Outcome; metric: number | null }>();
  const expected = new Map<number, ExpectedNode>();
  for (let n = 0; n < count; n++) {
    let full: LedgerEvent[];
    let outcome: Outcome;
    let metric: number | null;
    const slot = 1 + Math.floor(random() * width);
    let node: ExpectedNode;
    if (n === 0) {
      outcome = 'baseline';
      metric = Math.round(random() * 100);
      full = baseline(metric).map((e) => (e.type === 'run.start' ? { ...e, slot } : e.type === 'trial.end' ? { ...e, summary: { ...(e['summary'] as object), parent: sha(1), base: sha(1), slot } } : e));
      node = { phase: null, base: sha(1), slot, remeasureOf: null };
    } else {
      outcome = pick<Outcome>(['keep', 'keep', 'discard', 'crash', 'stale', 'interrupted']);
      metric = outcome === 'keep' || outcome === 'discard' ? Math.round(random() * 100) : outcome === 'crash' && random() < 0.3 ? 5 : null;
      const parent = sha(100 + Math.floor(random() * n));
      const onto = outcome !== 'stale' && random() < 0.3 ? sha(100 + Math.floor(random() * n)) : undefined;
      const remeasureOf = random() < 0.15 ? Math.floor(random() * n) : undefined;
      full = parallelTrial(n, { parent, outcome, metric, slot, queued: random() < 0.5, ...(onto === undefined ? {} : { onto }), ...(remeasureOf === undefined ? {} : { remeasureOf }) });
      node = { phase: null, base: onto ?? parent, slot: outcome === 'stale' ? null : slot, remeasureOf: remeasureOf ?? null };
    }
    const cut = random() < 0.25 ? 1 + Math.floor(random() * (full.length - 1)) : full.length;
    const queue = full.slice(0, cut);
    if (cut === full.length) {
      ended.set(n, { outcome, metric });
    } else {
      const seen = (type: string): LedgerEvent | undefined => queue.find((e) => e.type === type);
      const rebase = seen('rebase');
      const commit = seen('commit');
      const run = seen('run.start');
      node = {
        phase: n === 0 && queue.length === 1 ? 'queued' : phaseAfter(queue.at(-1)!),
        base: rebase ? String(rebase['onto']) : commit ? String(commit['base']) : n === 0 ? sha(1) : String(queue[0]!['parent']),
        slot: run ? (run['slot'] as number) : null,
        remeasureOf: node.remeasureOf,
      };
    }
    expected.set(n, node);
    started.add(n);
    queues.push(queue);
  }
  const events: LedgerEvent[] = [];
  const active: LedgerEvent[][] = [];
  let next = 0;
  while (next < queues.length || active.length > 0) {
    if (next < queues.length && (active.length === 0 || (active.length < width && random() < 0.5))) active.push([...queues[next++]!]);
    const queue = pick(active);
    events.push(queue.shift()!);
    if (queue.length === 0) active.splice(active.indexOf(queue), 1);
  }
  return { events, started, ended, expected };
}
