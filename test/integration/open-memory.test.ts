import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { detachStrings } from '../../src/store/detach-strings.js';
import { openLedger } from '../../src/store/ledger.js';
import { RESULT_COLUMNS } from '../../src/store/result-row.js';
import { formatResultRow, openResultsFile } from '../../src/store/results-file.js';

// A full collection on demand: what the heap still holds is then what is reachable.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterCollecting(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * What an open run keeps of the files it read at open (decisions 60). A line cut from a file's
 * text is, in V8, a slice that keeps the whole text alive: a run resumed at 10,000 trials held its
 * 25 MB ledger that way, for the whole session, in every fork of crucible.
 */
describe('a run opened on long records', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'crucible-open-memory-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('detaches even a single line from its text, and changes no line', () => {
    const before = heapAfterCollecting();
    // The last line of an 8 MB text, the text itself gone with this function.
    const lastLine = (): string => `${'x'.repeat(8_000_000)}\nthe last line, long enough to be a slice\n`.slice(8_000_001, -1);
    const [line] = detachStrings([lastLine()]);
    expect(heapAfterCollecting() - before).toBeLessThan(1_000_000);
    expect(line).toBe('the last line, long enough to be a slice');
    for (const lines of [[], [''], ['a'], ['', ''], ['a', '', 'b c', 'é✓']]) expect(detachStrings(lines)).toEqual(lines);
    expect(detachStrings(['a\tb', 'c'], '\n')).toEqual(['a\tb', 'c']);
  });

  it('keeps none of the ledger text it read', () => {
    const file = join(dir, 'runs', 'r', 'ledger.jsonl');
    mkdirSync(join(dir, 'runs', 'r'), { recursive: true });
    const lines = Array.from({ length: 40_000 }, (_, i) =>
      JSON.stringify({ v: 1, ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), type: 'trial.step', n: i, note: `step ${i} ${'x'.repeat(i % 300)}` }),
    );
    writeFileSync(file, `${lines.join('\n')}\n`);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(8_000_000);

    const before = heapAfterCollecting();
    const ledger = openLedger(file);
    // The run's first append: the events parsed at open are dropped for the kept lines.
    ledger.append('trial.start', { n: 40_000 });
    const kept = heapAfterCollecting() - before;
    // The lines stay, compressed (0.2 MB here); the text itself (9.6 MB) must not.
    expect(kept).toBeLessThan(size / 4);
    expect(ledger.eventsFrom(39_999).map((event) => event.n)).toEqual([39_999, 40_000]);
    ledger.close();
  });

  it('keeps none of the results.tsv text it read', () => {
    const rows = Array.from({ length: 40_000 }, (_, trial) =>
      formatResultRow({
        commit: trial.toString(16).padStart(7, '0'),
        metric: 1 / (trial + 1),
        status: trial === 0 ? 'baseline' : 'discard',
        description: `trial ${trial}: set DELTA to ${trial * 7919} ${'y'.repeat(trial % 80)}`,
        tag: 'r',
        trial,
        timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, trial)).toISOString(),
        agentSeconds: 1.5,
        runSeconds: 2.25,
        totalSeconds: 3.75,
        costUsd: null,
      }),
    );
    writeFileSync(join(dir, 'results.tsv'), `${RESULT_COLUMNS.join('\t')}\n${rows.join('\n')}\n`);
    const size = statSync(join(dir, 'results.tsv')).size;
    expect(size).toBeGreaterThan(4_000_000);

    const before = heapAfterCollecting();
    const results = openResultsFile(dir);
    expect(
      results.append({ commit: 'abcdef0', metric: 0.5, status: 'keep', description: 'one more', tag: 'r', trial: 40_000, timestamp: '2026-02-01T00:00:00.000Z', agentSeconds: 1, runSeconds: 1, totalSeconds: 2, costUsd: null }),
    ).toBe(true);
    const kept = heapAfterCollecting() - before;
    // The rows, compressed, and each run's trial numbers (about 1.4 MB here); the text was 6.8.
    expect(kept).toBeLessThan(size / 2);
    expect(results.has('r', 39_999) && results.has('r', 40_000)).toBe(true);
    results.close();
  });
});
