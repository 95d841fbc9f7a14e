import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { foldRun } from '../../src/store/fold-run.js';
import { readLedger, type LedgerEvent } from '../../src/store/ledger.js';
import { readLedgerForFold } from '../../src/store/read-run.js';
import { baseline, prng, randomLedger, randomParallelLedger, sha, steps, trial } from '../helpers/ledger-events.js';

/**
 * readLedgerForFold skips, unparsed, the steps of trials that have ended; whatever the file holds
 * (hand edits, torn lines, other writers' key order), the fold of what it returns must be the fold
 * of the whole ledger.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-read-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function write(text: string): string {
  const file = path.join(dir, `ledger-${++files}.jsonl`);
  writeFileSync(file, text);
  return file;
}
const lines = (events: readonly LedgerEvent[]): string => events.map((e) => `${JSON.stringify(e)}\n`).join('');

async function expectSameFold(file: string, where: string): Promise<void> {
  const fast = readLedgerForFold(file);
  expect(fast, where).not.toBeNull();
  expect(foldRun(fast!, { direction: 'minimize' }), where).toEqual(foldRun(await readLedger(file), { direction: 'minimize' }));
}

describe('readLedgerForFold', () => {
  it('reads a missing ledger as none', async () => {
    expect(readLedgerForFold(path.join(dir, 'missing.jsonl'))).toBeNull();
  });

  it('skips the steps of ended trials, and reads every step of a trial in flight', async () => {
    const events = [...baseline(3), ...trial(1, sha(1), 'keep', 2), ...trial(2, sha(101), 'discard', 5).slice(0, 6)];
    const read = readLedgerForFold(write(lines(events)))!;
    expect(read.map((e) => `${e.type}:${e.n}`)).toEqual(['trial.start:0', 'trial.end:0', 'trial.start:1', 'trial.end:1', 'trial.start:2', 'agent.done:2', 'guard:2', 'commit:2', 'apply:2', 'run.start:2']);
  });

  it('reads across its 1 MB chunks, lines longer than a chunk included', async () => {
    const events = [...baseline(3)];
    for (let n = 1; n <= 3000; n++) events.push(...trial(n, sha(1), n % 3 === 0 ? 'keep' : 'discard', n));
    const long = events.findIndex((e) => e.type === 'trial.end' && e.n === 1500);
    events[long] = { ...events[long]!, summary: { ...(events[long]!['summary'] as object), detail: 'é'.repeat(1_500_000) } };
    events.push(...trial(3001, sha(1), 'keep', 1).slice(0, 5));
    const file = write(lines(events));
    await expectSameFold(file, 'long ledger');
    expect(readLedgerForFold(file)!.filter((e) => e.n === 3001)).toHaveLength(5);
  });

  it('folds random ledgers as the full reader does, hand edits and all (seeded)', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const random = prng(seed);
      const { events } = randomLedger(random);
      const text = events.map((event) => {
        const r = random();
        // Descriptions outside ASCII: byte offsets and UTF-8 must agree.
        const e = event.type === 'trial.end' ? { ...event, summary: { ...(event['summary'] as object), description: 'x → ü 日本 🎉' } } : event;
        if (r < 0.03) return 'not json at all\n';
        if (r < 0.06) return `${JSON.stringify({ ...e, v: undefined, version: 0 }).replace('"version":0', '"v":1')}\n`; // another key order: no prefix to go by
        if (r < 0.08) return `${JSON.stringify(e)}\r\n`;
        if (r < 0.1) return `${JSON.stringify({ ...e, n: typeof e.n === 'number' ? e.n + 0.5 : e.n })}\n`;
        if (r < 0.12 && e.type === 'trial.end') return `${JSON.stringify(e).slice(0, -1)},}\n`; // the prefix of a record, broken after it
        if (r < 0.14 && e.type === 'trial.end') return `${JSON.stringify({ ...e, summary: { outcome: 'great' } })}\n`; // a record the fold cannot use
        return `${JSON.stringify(e)}\n`;
      });
      const torn = random() < 0.3 ? JSON.stringify(steps.end(99, 'keep', 1)).slice(0, 40) : '';
      await expectSameFold(write(text.join('') + torn), `seed ${seed}`);
    }
  });

  it('folds parallel ledgers (rebases, queues, slots, results out of order) as the full reader does (seeded)', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const { events } = randomParallelLedger(prng(seed), 1 + (seed % 8));
      await expectSameFold(write(lines(events)), `seed ${seed}`);
    }
  });
});
