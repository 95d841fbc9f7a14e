import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../../src/cli/commands/compare.js';
import { historyCommand } from '../../src/cli/commands/history.js';
import { postmortemCommand } from '../../src/cli/commands/postmortem.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { createOutput, type Output } from '../../src/cli/output.js';
import type { LedgerEvent } from '../../src/store/ledger.js';
import { runPaths } from '../../src/store/run-paths.js';
import { baseline, header, parallelTrial, sha } from '../helpers/ledger-events.js';
import { createTinyProject, type TinyProject } from '../helpers/project.js';

/**
 * The read-only commands over ledgers written by hand as the parallel scheduler writes them:
 * several trials in flight, interleaved, results arriving out of order, a rebase, a re-measure,
 * a stale proposal.
 */

let p: TinyProject;
const minutesAgo = 10;
let startedAt: number;

async function capture(command: (out: Output) => Promise<void>): Promise<string> {
  let text = '';
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) });
  await command(createOutput({ stdout: Object.assign(sink, { columns: 100 }), stderr: new Writable({ write: (_c, _e, done) => done() }), color: false }));
  return text;
}

// Trial 2 (slot 2) is kept while trial 1 (slot 1) runs; trial 1 beats its base but not on the
// incumbent: it is measured again as trial 5, on trial 2's commit. Trial 3 went stale. In flight
// in run "p": 5 runs in slot 1, 6 (rebased onto trial 2's commit) waits for a slot, 7's agent works.
function ledger(finished: boolean): LedgerEvent[] {
  const inc = sha(1);
  const second = `2222222${'0'.repeat(33)}`; // trial 2's commit
  const t1 = parallelTrial(1, { parent: inc, outcome: 'discard', metric: 13, slot: 1 });
  const t2 = parallelTrial(2, { parent: inc, outcome: 'keep', metric: 12, slot: 2, commit: second });
  const t3 = parallelTrial(3, { parent: inc, outcome: 'stale', metric: null, slot: 1 });
  const t5 = parallelTrial(5, { parent: second, outcome: 'keep', metric: 14, slot: 1, remeasureOf: 1 });
  const t6 = parallelTrial(6, { parent: inc, outcome: 'discard', metric: 11, slot: 2, onto: second, queued: true });
  const t7 = parallelTrial(7, { parent: second, outcome: 'discard', metric: 11, slot: 2 });
  const base = baseline(10).map((e) => (e.type === 'run.start' ? { ...e, slot: 1 } : e.type === 'trial.end' ? { ...e, summary: { ...(e['summary'] as object), parent: inc, base: inc, slot: 1 } } : e));
  const events = [
    ...header,
    ...base,
    t1[0]!, t2[0]!, t3[0]!,
    ...t2.slice(1, 5), ...t1.slice(1, 5), ...t2.slice(5), ...t3.slice(1), ...t1.slice(5),
    t5[0]!, t6[0]!, ...t5.slice(1, 5), ...t6.slice(1, 6), t7[0]!,
    ...(finished ? [...t5.slice(5), ...t7.slice(1), ...t6.slice(6)] : []),
  ];
  // One second apart, the last one now: trial 5 started about 9.9 minutes ago.
  return events.map((e, i) => ({ ...e, ts: new Date(startedAt + i * 1000).toISOString() }));
}

function writeLedger(tag: string, events: readonly LedgerEvent[]): void {
  const file = runPaths(p.dir, tag).ledger;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, events.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

const holdLock = (tag: string): void => writeFileSync(runPaths(p.dir, tag).lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date(startedAt).toISOString() }));

beforeAll(() => {
  p = createTinyProject({ agent: 'command' });
  startedAt = Date.now() - minutesAgo * 60_000;
  writeLedger('p', ledger(false));
  writeLedger('q', ledger(true));
});

afterAll(() => p.cleanup());

describe('status of a run with trials in flight', () => {
  it('lists them by number, with slot, phase and time since they started, while the run is alive', async () => {
    holdLock('p');
    try {
      const text = await capture((out) => statusCommand({ projectDir: p.dir, tag: 'p', json: false }, out));
      expect(text).toContain('Trials: 3  kept 1  discarded 1  crashed 0  stale 1');
      const section = text.slice(text.indexOf('In flight: 3'));
      expect(section.split('\n').slice(1, 5).map((line) => line.trim().split(/\s{2,}/).slice(0, 3))).toEqual([
        ['Trial', 'Slot', 'Phase'],
        ['5', '1', 'running'],
        ['6', '-', 'queued'],
        ['7', '-', 'agent'],
      ]);
      expect(section).toMatch(/^ +5 +1 +running +9m \d\ds +re-measures trial 1$/m);
      expect(section).toMatch(/^ +6 +- +queued +9m \d\ds +rebased onto 2222222$/m);

      const json = JSON.parse(await capture((out) => statusCommand({ projectDir: p.dir, tag: 'p', json: true }, out))) as { stale: number; in_flight: Array<Record<string, unknown>> };
      expect(json.stale).toBe(1);
      expect(json.in_flight.map((t) => [t['trial'], t['phase'], t['slot'], t['remeasure_of'], t['base']])).toEqual([
        [5, 'running', 1, 1, '2222222'],
        [6, 'queued', null, null, '2222222'],
        [7, 'agent', null, null, '2222222'],
      ]);
      for (const t of json.in_flight) {
        const expected = (Date.now() - Date.parse(t['started_at'] as string)) / 1000;
        expect(Math.abs((t['elapsed_seconds'] as number) - expected)).toBeLessThan(30);
        expect(t['elapsed_seconds']).toBeGreaterThan(500);
      }
    } finally {
      rmSync(runPaths(p.dir, 'p').lock, { force: true });
    }
  });

  it('calls them unfinished when no run holds the lock', async () => {
    const text = await capture((out) => statusCommand({ projectDir: p.dir, tag: 'p', json: false }, out));
    expect(text).toContain('Unfinished: 3 (no live `crucible run` holds this run here; the next one reconciles them)');
  });

  it('shows no such section once nothing is in flight', async () => {
    const text = await capture((out) => statusCommand({ projectDir: p.dir, tag: 'q', json: false }, out));
    expect(text).not.toMatch(/In flight|Unfinished/);
    expect(JSON.parse(await capture((out) => statusCommand({ projectDir: p.dir, tag: 'q', json: true }, out)))).toMatchObject({ in_flight: [], stale: 1, kept: 2 });
  });
});

describe('history, postmortem and compare of a parallel run', () => {
  it('history: by trial number, parent, base, slot and remeasure_of in --json', async () => {
    const entries = JSON.parse(await capture((out) => historyCommand({ projectDir: p.dir, tag: 'q', last: 50, json: true }, out))) as Array<Record<string, unknown>>;
    expect(entries.map((e) => [e['trial'], e['status'], e['slot'] ?? null, e['base'], e['remeasure_of'] ?? null])).toEqual([
      [0, 'baseline', 1, '0000000', null],
      [1, 'discard', 1, '0000000', null],
      [2, 'keep', 2, '0000000', null],
      [3, 'stale', null, '0000000', null],
      [5, 'keep', 1, '2222222', 1],
      [6, 'discard', 2, '2222222', null],
      [7, 'discard', 2, '2222222', null],
    ]);
    const text = await capture((out) => historyCommand({ projectDir: p.dir, tag: 'q', last: 50, json: false }, out));
    expect(text.split('\n').slice(2, -1).map((line) => line.trim().split(/\s+/)[0])).toEqual(['0', '1', '2', '3', '5', '6', '7']);
  });

  it('postmortem: notes the re-measured trial and the stale one', async () => {
    const text = await capture((out) => postmortemCommand({ projectDir: p.dir, tag: 'q', json: false }, out));
    expect(text).toContain('## Re-measured and stale');
    expect(text).toContain('trial 1: re-measured as trial 5 on the new incumbent (keep 14)');
    expect(text).toContain('stale: trial 3 (');
    const json = JSON.parse(await capture((out) => postmortemCommand({ projectDir: p.dir, tag: 'q', json: true }, out))) as { stale: number; trend: Array<Record<string, unknown>> };
    expect(json.stale).toBe(1);
    expect(json.trend.find((t) => t['trial'] === 5)).toMatchObject({ parent: '2222222', base: '2222222', slot: 1, remeasure_of: 1 });
  });

  it('compare: counts the stale trials of both runs', async () => {
    const text = await capture((out) => compareCommand({ projectDir: p.dir, tagA: 'p', tagB: 'q', json: false }, out));
    expect(text).toMatch(/^Stale +1 +1$/m);
  });
});
