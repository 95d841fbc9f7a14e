import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/store/result-row.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { formatResultRow, openResultsFile, readResults } from '../../src/store/results-file.js';
import type { ResultsFile } from '../../src/store/results-file.js';

const HEADER = RESULT_COLUMNS.join('\t');

function row(trial: number, overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    commit: `c${String(trial).padStart(6, '0')}`,
    metric: 1 / (trial + 1),
    status: trial === 0 ? 'baseline' : 'discard',
    description: `trial ${trial}`,
    tag: 'run1',
    trial,
    timestamp: '2026-11-27T10:02:00.000Z',
    agentSeconds: 1.5,
    runSeconds: 2.25,
    totalSeconds: 3.75,
    costUsd: 0.0125,
    inputTokens: 100,
    outputTokens: 20,
    cacheReadTokens: null,
    cacheWriteTokens: null,
    ...overrides,
  };
}

let dir: string;
const open: ResultsFile[] = [];
const file = (): string => join(dir, 'results.tsv');
const openTracked = (): ResultsFile => {
  const results = openResultsFile(dir);
  open.push(results);
  return results;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-results-'));
});
afterEach(() => {
  for (const results of open.splice(0)) results.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('results.tsv', () => {
  it('starts a new file with the header and reads every field back after reopening', async () => {
    const results = openTracked();
    expect(readFileSync(file(), 'utf8')).toBe(`${HEADER}\n`);
    const awkward = [
      row(0),
      row(1, { metric: null, status: 'crash', description: 'tab\there\r\nand a\nnewline', costUsd: null }),
      row(2, { description: '', runSeconds: null }),
      row(3, { description: 'résumé ✓ 日本語 🚀', metric: -0.000123 }),
    ];
    for (const r of awkward) expect(results.append(r)).toBe(true);
    results.close();

    const reopened = openTracked();
    const expected = [
      awkward[0],
      { ...awkward[1], description: 'tab here / and a / newline' },
      { ...awkward[2], description: '(no description)' },
      awkward[3],
    ];
    expect(reopened.problems).toEqual([]);
    expect(reopened.rows('run1')).toEqual(expected);
    expect((await readResults(dir)).rows).toEqual(expected);
    // What append remembers is what a reader will see.
    expect(results.rows()).toEqual(expected);
  });

  it('appends a row once: the same (tag, trial) again is a no-op, even after reopening', () => {
    const results = openTracked();
    expect(results.append(row(1))).toBe(true);
    expect(results.append(row(1, { description: 'again' }))).toBe(false);
    results.close();
    const reopened = openTracked();
    expect(reopened.has('run1', 1)).toBe(true);
    expect(reopened.append(row(1))).toBe(false);
    expect(readFileSync(file(), 'utf8').trimEnd().split('\n')).toHaveLength(2);
  });

  it('repairs a torn last line, and the next row lands on its own line', () => {
    writeFileSync(file(), `${HEADER}\n${formatResultRow(row(0))}\n${formatResultRow(row(1)).slice(0, 20)}`);
    const results = openTracked();
    expect(results.repaired).toBe(formatResultRow(row(1)).slice(0, 20));
    expect(results.rows().map((r) => r.trial)).toEqual([0]);
    expect(results.append(row(1))).toBe(true);
    expect(readFileSync(file(), 'utf8')).toBe(`${HEADER}\n${formatResultRow(row(0))}\n${formatResultRow(row(1))}\n`);
  });

  it('starts on a fresh line when another process left a torn line after we opened', () => {
    const results = openTracked();
    results.append(row(0));
    appendFileSync(file(), 'c999\t0.5\tke'); // another run died mid-write
    results.append(row(1));
    const reopened = openTracked();
    expect(reopened.rows().map((r) => r.trial)).toEqual([0, 1]);
    expect(reopened.problems).toEqual(['line 3: expected 19 columns, found 3; row skipped']);
  });

  it('reads a reference-format file, and rewrites it as ours when opened for appending', async () => {
    const legacy = 'commit\tmetric_value\tstatus\tdescription\naaa1111\t5.0\tbaseline\tbaseline\nbbb2222\t0.0\tcrash\tslow\n';
    writeFileSync(file(), legacy);
    const read = await readResults(dir);
    expect(read.rows.map((r) => [r.tag, r.trial, r.metric, r.status])).toEqual([
      ['', 0, 5, 'baseline'],
      ['', 1, null, 'crash'],
    ]);
    expect(readFileSync(file(), 'utf8')).toBe(legacy); // reading changes nothing

    const results = openTracked();
    expect(results.upgraded).toBe(true);
    expect(results.append(row(0))).toBe(true);
    const reread = await readResults(dir);
    expect(reread.problems).toEqual([]);
    expect(reread.rows.map((r) => [r.tag, r.trial, r.commit])).toEqual([
      ['', 0, 'aaa1111'],
      ['', 1, 'bbb2222'],
      ['run1', 0, 'c000000'],
    ]);
  });

  it('appends rows in the order trials end, parent, base and slot included, and reads them all back', async () => {
    const results = openTracked();
    for (const trial of [0, 2, 3, 1]) results.append(row(trial, { parent: 'aaa1111', base: trial === 3 ? 'bbb2222' : 'aaa1111', slot: trial % 2 }));
    const read = await readResults(dir);
    expect(read.problems).toEqual([]);
    expect(read.rows.map((r) => [r.trial, r.parent, r.base, r.slot])).toEqual([[0, 'aaa1111', 'aaa1111', 0], [2, 'aaa1111', 'aaa1111', 0], [3, 'aaa1111', 'bbb2222', 1], [1, 'aaa1111', 'aaa1111', 1]]);
  });

  it("keeps a file begun by the previous version in its own 15 columns (another crucible may be appending to it)", async () => {
    const old = RESULT_COLUMNS.slice(0, 15);
    writeFileSync(file(), `${old.join('\t')}\n${formatResultRow(row(0), old)}\n`);
    const results = openTracked();
    expect(results.append(row(1, { parent: 'aaa1111', base: 'aaa1111', slot: 2 }))).toBe(true);
    const lines = readFileSync(file(), 'utf8').split('\n').slice(0, -1);
    expect(lines.map((line) => line.split('\t').length)).toEqual([15, 15, 15]);
    const read = await readResults(dir);
    expect(read.problems).toEqual([]);
    expect(read.rows.map((r) => r.trial)).toEqual([0, 1]);
  });

  it('keeps the rows of two runs apart when both append to the same file', async () => {
    const first = openTracked();
    const second = openTracked();
    for (let n = 0; n < 5; n += 1) {
      first.append(row(n, { tag: 'a' }));
      second.append(row(n, { tag: 'b' }));
    }
    expect(first.rows('a').map((r) => r.trial)).toEqual([0, 1, 2, 3, 4]);
    const { rows, problems } = await readResults(dir);
    expect(problems).toEqual([]);
    expect(rows.map((r) => `${r.tag}${r.trial}`)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4']);
    expect(openTracked().rows('b')).toHaveLength(5);
  });

  it('opens a 2,000-row file and keeps appending', () => {
    const lines = Array.from({ length: 2000 }, (_, n) => formatResultRow(row(n)));
    writeFileSync(file(), `${HEADER}\n${lines.join('\n')}\n`);
    const results = openTracked();
    expect(results.rows('run1')).toHaveLength(2000);
    expect(results.has('run1', 1999)).toBe(true);
    expect(results.append(row(2000))).toBe(true);
    expect(results.rows('run1').find((r) => r.trial === 2000)?.commit).toBe('c002000');
  });

  it('puts a long file back as it wrote it after something else changed it, and still reads and replaces its rows', () => {
    // Another run's 1,500 rows read at open, then 1,500 of this run's appended: the rows are kept
    // as compressed lines from the first append on.
    writeFileSync(file(), `${HEADER}\n${Array.from({ length: 1500 }, (_, n) => formatResultRow(row(n, { tag: 'other', description: `other ${n} →` }))).join('\n')}\n`);
    const results = openTracked();
    for (let n = 0; n < 1500; n += 1) expect(results.append(row(n, { description: `mine ${n} ✓` }))).toBe(true);
    expect(results.append(row(7))).toBe(false);
    const written = readFileSync(file(), 'utf8');
    expect(results.rows('run1')).toEqual(Array.from({ length: 1500 }, (_, n) => row(n, { description: `mine ${n} ✓` })));
    expect(results.rows()).toHaveLength(3000);
    expect(results.rows('other').find((r) => r.trial === 1499)?.description).toBe('other 1499 →');
    expect(results.rows('run1').find((r) => r.trial === 1500)).toBeUndefined();

    writeFileSync(file(), `${HEADER}\nforged\n`);
    expect(results.restoreIfChanged()).toBe(true);
    expect(readFileSync(file(), 'utf8')).toBe(written);
    rmSync(file());
    expect(results.restoreIfChanged()).toBe(true);
    expect(readFileSync(file(), 'utf8')).toBe(written);

    results.replaceRows('run1', [row(0), row(1)]);
    expect(results.rows().map((r) => `${r.tag}${r.trial}`).slice(-3)).toEqual(['other1499', 'run10', 'run11']);
    expect(results.has('run1', 2)).toBe(false);
    expect(results.append(row(2))).toBe(true);
    expect(readFileSync(file(), 'utf8').split('\n')).toHaveLength(1 + 1500 + 3 + 1);
  });

  it("puts back the rows read at open in the file's own spelling, not formatted again", () => {
    // Another version (or a hand) wrote "2.250" and "0.01250": valid numbers this one would write
    // as "2.25" and "0.0125". Restoring the file must give back what was there.
    const own = Array.from({ length: 3 }, (_, n) => formatResultRow(row(n)).replace('\t2.25\t', '\t2.250\t').replace('\t0.0125\t', '\t0.01250\t'));
    expect(own[0]).toContain('\t2.250\t');
    writeFileSync(file(), `${HEADER}\n${own.join('\n')}\n`);
    const results = openTracked();
    expect(results.rows('run1')[1]?.runSeconds).toBe(2.25);
    expect(results.append(row(3))).toBe(true);
    const written = readFileSync(file(), 'utf8');
    expect(written).toBe(`${HEADER}\n${own.join('\n')}\n${formatResultRow(row(3))}\n`);
    writeFileSync(file(), `${HEADER}\nforged\n`);
    expect(results.restoreIfChanged()).toBe(true);
    expect(readFileSync(file(), 'utf8')).toBe(written);
    expect(results.rows('run1').map((r) => r.runSeconds)).toEqual([2.25, 2.25, 2.25, 2.25]);
  });

  it('puts back only the rows it read when the file had a bad line, a blank line or CRLF endings', () => {
    for (const [name, body] of [
      ['a bad line', `${formatResultRow(row(0))}\nnot a row\n${formatResultRow(row(1))}\n`],
      ['a blank line', `${formatResultRow(row(0))}\n\n${formatResultRow(row(1))}\n`],
      ['CRLF endings', `${formatResultRow(row(0))}\r\n${formatResultRow(row(1))}\r\n`],
    ]) {
      writeFileSync(file(), `${HEADER}\n${body}`);
      const results = openTracked();
      expect(results.append(row(2)), name).toBe(true);
      writeFileSync(file(), `${HEADER}\nforged\n`);
      expect(results.restoreIfChanged(), name).toBe(true);
      expect(readFileSync(file(), 'utf8'), name).toBe(`${HEADER}\n${[0, 1, 2].map((n) => formatResultRow(row(n))).join('\n')}\n`);
      results.close();
    }
  });

  it('reads a missing file as no rows, and leaves out a line still being written', async () => {
    expect(await readResults(dir)).toEqual({ rows: [], problems: [] });
    writeFileSync(file(), `${HEADER}\n${formatResultRow(row(0))}\n${formatResultRow(row(1)).slice(0, 12)}`);
    expect((await readResults(dir)).rows.map((r) => r.trial)).toEqual([0]);
  });
});
