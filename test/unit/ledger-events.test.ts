import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendEvent, type RunEvent } from '../../src/store/ledger-events.js';
import { readRunEvent } from '../../src/store/read-event.js';
import { openLedger, type LedgerEvent } from '../../src/store/ledger.js';

const ts = '2026-03-01T10:00:00.000Z';
const sha = 'a'.repeat(40);
const usage = { inputTokens: 10, outputTokens: 2, cacheReadTokens: 1, cacheWriteTokens: 0, costUsd: 0.5 };
const summary = { trial: 3, outcome: 'keep', metric: 2.5, description: 'x', commit: sha, files: ['a.js'], best: 2.5, agentMs: 5, runMs: 7, totalMs: 20, costUsd: 0.5, usage };
const event = (type: string, fields: Record<string, unknown> = {}): LedgerEvent => ({ v: 1, ts, type, ...fields });

describe('readRunEvent: each event the loop writes reads back as itself', () => {
  // As the call sites in src/loop write them.
  const written: Array<[string, Record<string, unknown>]> = [
    ['run.create', { tag: 't', branch: 'crucible/t', from: sha, forkedFrom: { tag: 'o', commit: sha } }],
    ['session.start', { pid: 42, agent: 'tuner', head: sha }],
    ['session.end', { reason: 'max-iterations', trials: 3 }],
    ['trial.start', { n: 3, parent: sha }],
    ['trial.start', { n: 0, parent: sha, baseline: true }],
    ['trial.start', { n: 14, parent: sha, remeasureOf: 9 }],
    ['agent.done', { n: 3, description: 'd', files: ['a.js'], usage, ms: 12 }],
    ['agent.error', { n: 3, kind: 'timeout', message: 'too slow', ms: 12 }],
    ['guard', { n: 3, outcome: 'ok', files: ['a.js'] }],
    ['guard', { n: 3, outcome: 'skip', reason: 'no files were changed' }],
    ['commit', { n: 3, sha, parent: sha }],
    ['commit', { n: 3, sha, parent: sha, base: 'b'.repeat(40) }],
    ['rebase', { n: 3, onto: 'b'.repeat(40), sha: 'c'.repeat(40) }],
    ['queued', { n: 3 }],
    ['apply', { n: 3, sha, files: ['a.js'] }],
    ['run.start', { n: 3, sha, handle: { executor: 'local', pgid: 999, processTag: 'crucible-t-3' }, pgid: 999, processTag: 'crucible-t-3' }],
    ['run.start', { n: 3, sha, handle: { executor: 'local', pgid: 999, processTag: 'crucible-t-3' }, slot: 2 }],
    ['run.done', { n: 3, exitCode: 0, signal: null, timedOut: false, metric: 2.5, reason: null, ms: 7 }],
    ['decide', { n: 3, outcome: 'crash', metric: null, best: 1, reason: 'no metric', crashReport: 'boom' }],
    ['reset', { n: 3, to: sha }],
    ['trial.end', { n: 3, summary, at: ts }],
    ['trial.end', { n: 3, summary: { ...summary, parent: sha, base: 'b'.repeat(40), slot: 0, remeasureOf: 1 }, at: ts }],
    ['tamper', { n: 3, files: ['h.js'], unrestored: [], during: 'agent' }],
    ['protected.volatile', { n: 0, files: ['cache.bin'] }],
    ['records.restored', { files: ['results.tsv'], during: 'during the experiment' }],
  ];
  it.each(written)('%s %j', (type, fields) => {
    expect(readRunEvent(event(type, fields))).toEqual(event(type, fields));
  });
});

describe('readRunEvent: older and hand-edited ledgers', () => {
  const cases: Array<[string, LedgerEvent, Partial<RunEvent> | null]> = [
    ['an unknown type is not an error', event('dashboard.opened', { n: 1 }), null],
    ['a type named like an object property is unknown too', event('toString', { n: 1 }), null],
    ['__proto__ is unknown too', event('__proto__', { n: 1 }), null],
    ['a trial event without its trial number is skipped', event('commit', { sha }), null],
    ['a negative trial number is skipped', event('trial.start', { n: -1, parent: sha }), null],
    ['a fractional trial number is skipped', event('run.start', { n: 1.5, sha, pgid: 1 }), null],
    ['run.start before handles: its pgid is a local handle', event('run.start', { n: 1, sha, pgid: 7 }), { handle: { executor: 'local', pgid: 7, processTag: '' }, pgid: 7 }],
    ['run.start of an executor it does not know: no handle', event('run.start', { n: 1, sha, handle: { executor: 'kubernetes', jobId: '12' } }), { handle: null }],
    ['run.start of a Slurm job: its id, name and folder', event('run.start', { n: 1, sha, handle: { executor: 'slurm', jobId: '12', name: 'crucible-t-1-ab', dir: '/d' } }), { handle: { executor: 'slurm', jobId: '12', name: 'crucible-t-1-ab', dir: '/d' } }],
    ['missing fields get defaults', event('agent.done', { n: 2 }), { type: 'agent.done', n: 2, description: '', files: [], usage: null, ms: 0 }],
    ['a metric of 1e999 (Infinity) is no metric', event('run.done', { n: 2, metric: Infinity }), { metric: null, exitCode: null, signal: null, timedOut: false }],
    ['a guard outcome it does not know is a violation', event('guard', { n: 2, outcome: 'maybe' }), { outcome: 'violation' }],
    ['a decision with an unknown outcome is skipped', event('decide', { n: 2, outcome: 'great' }), null],
    ['usage without token counts is none', event('agent.done', { n: 2, usage: { costUsd: 3 } }), { usage: null }],
    ['a fork without its commit is none', event('run.create', { tag: 't', forkedFrom: { tag: 'o' } }), { forkedFrom: null, branch: '', from: '' }],
    ['trial.end without at (older ledgers)', event('trial.end', { n: 3, summary }), { type: 'trial.end', n: 3 }],
    ['trial.end takes its trial from n', event('trial.end', { n: 4, summary }), { n: 4, summary: { ...summary, trial: 4 } as never }],
    ['trial.end without n takes the summary\'s trial', event('trial.end', { summary }), { n: 3 }],
    ['trial.end with an unknown outcome is skipped', event('trial.end', { n: 3, summary: { ...summary, outcome: 'great' } }), null],
    ['trial.end without a summary is skipped', event('trial.end', { n: 3 }), null],
    ['a rebase without its trial is skipped', event('rebase', { onto: sha, sha }), null],
    ['a rebase with missing fields gets defaults', event('rebase', { n: 2 }), { type: 'rebase', n: 2, onto: '', sha: '' }],
    ['queued without its trial is skipped', event('queued', {}), null],
    [
      'a record with a bad slot keeps what it can read of the rest',
      event('trial.end', { n: 3, summary: { ...summary, parent: sha, base: 7, slot: -1, remeasureOf: 2 } }),
      { summary: { ...summary, parent: sha, remeasureOf: 2 } as never },
    ],
    [
      'a summary with missing fields gets defaults',
      event('trial.end', { n: 5, summary: { outcome: 'skip' } }),
      { summary: { trial: 5, outcome: 'skip', metric: null, description: '', commit: '', files: [], best: null, agentMs: 0, runMs: 0, totalMs: 0, costUsd: null } },
    ],
  ];
  it.each(cases)('%s', (_name, raw, expected) => {
    const read = readRunEvent(raw);
    if (expected === null) expect(read).toBeNull();
    else expect(read).toMatchObject(expected);
  });
});

describe('readRunEvent: a field it cannot use is left out, never guessed', () => {
  it.each([
    ['a slot that is not a count', event('run.start', { n: 1, sha, pgid: 7, slot: 'gpu0' }), 'slot'],
    ['a re-measure of no trial', event('trial.start', { n: 1, parent: sha, remeasureOf: -2 }), 'remeasureOf'],
    ['a commit without base (older ledgers)', event('commit', { n: 1, sha, parent: sha }), 'base'],
    ['a commit whose base is not text', event('commit', { n: 1, sha, parent: sha, base: 5 }), 'base'],
  ])('%s', (_name, raw, field) => {
    const read = readRunEvent(raw);
    expect(read).not.toBeNull();
    expect(read).not.toHaveProperty(field);
  });
});

describe('appendEvent', () => {
  it('writes a typed event through the ledger, which reads back the same', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-ledger-events-'));
    try {
      const file = path.join(dir, 'ledger.jsonl');
      const ledger = openLedger(file, { now: () => new Date(ts) });
      const written = appendEvent(ledger, { type: 'commit', n: 1, sha, parent: sha });
      ledger.close();
      expect(written).toEqual({ v: 1, ts, type: 'commit', n: 1, sha, parent: sha });
      const line = JSON.parse(readFileSync(file, 'utf8')) as LedgerEvent;
      expect(readRunEvent(line)).toEqual(written);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
