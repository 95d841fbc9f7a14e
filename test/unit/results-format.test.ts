import { describe, expect, it } from 'vitest';
import { RESULT_COLUMNS } from '../../src/store/result-row.js';
import type { ResultRow } from '../../src/store/result-row.js';
import { formatResultRow, parseResultsText, sanitizeDescription } from '../../src/store/results-format.js';

const HEADER = RESULT_COLUMNS.join('\t');

function row(overrides: Partial<ResultRow> = {}): ResultRow {
  return {
    commit: 'abc1234',
    metric: 0.9979,
    status: 'keep',
    description: 'raise the learning rate',
    tag: 'run1',
    trial: 3,
    timestamp: '2026-11-27T10:02:00.000Z',
    agentSeconds: 12.34567,
    runSeconds: 30,
    totalSeconds: 42.3456,
    costUsd: 0.01234567,
    inputTokens: 1200,
    outputTokens: 300,
    cacheReadTokens: null,
    cacheWriteTokens: 0,
    ...overrides,
  };
}

describe('sanitizeDescription', () => {
  it.each([
    ['plain', 'plain'],
    ['a\tb\t\tc', 'a b c'],
    ['first line\nsecond line', 'first line / second line'],
    ['one\r\n\r\n  two  \n', 'one / two'],
    ['bell\u0007 and nul\u0000 removed', 'bell and nul removed'],
    ['  padded  ', 'padded'],
    ['', '(no description)'],
    [' \n\t\r\n ', '(no description)'],
    ['énergie ↓ 5% 🚀', 'énergie ↓ 5% 🚀'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeDescription(input)).toBe(expected);
  });

  it('cuts long text to 500 characters without splitting an emoji', () => {
    const out = sanitizeDescription('🚀'.repeat(600));
    expect(Array.from(out)).toHaveLength(500);
    expect(out.endsWith('…')).toBe(true);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('formatResultRow', () => {
  it('writes the columns in order, rounding durations to ms and cost to 6 decimals', () => {
    expect(formatResultRow(row()).split('\t')).toEqual([
      'abc1234', '0.9979', 'keep', 'raise the learning rate', 'run1', '3',
      '2026-11-27T10:02:00.000Z', '12.346', '30', '42.346', '0.012346', '1200', '300', '', '0', '', '', '', '',
    ]);
  });

  it('ends with parent, base, slot and measurements when the trial names them', () => {
    expect(formatResultRow(row({ parent: 'aaa1111', base: 'bbb2222', slot: 3, remeasureOf: 1, measurements: 5 })).split('\t').slice(-5)).toEqual(['0', 'aaa1111', 'bbb2222', '3', '5']);
    expect(RESULT_COLUMNS.slice(-4)).toEqual(['parent', 'base', 'slot', 'measurements']);
  });

  it('reads the measurements count back, and a file without the column as before', () => {
    const line = formatResultRow(row({ measurements: 7, samples: [1, 2] }));
    const { rows, problems } = parseResultsText(`${HEADER}\n${line}\n`);
    expect(problems).toEqual([]);
    expect(rows[0]!.measurements).toBe(7);
    // Raw values live in the ledger only.
    expect(rows[0]!.samples).toBeUndefined();
    const old = RESULT_COLUMNS.slice(0, -1);
    const oldLine = formatResultRow(row({ measurements: 7 }), old);
    const back = parseResultsText(`${old.join('\t')}\n${oldLine}\n`);
    expect(back.problems).toEqual([]);
    expect(back.rows[0]!.measurements).toBeUndefined();
    expect(parseResultsText(`${HEADER}\n${line.replace(/7$/, 'x')}\n`).problems).toEqual(['line 2: measurements "x" is not a count; read as empty']);
  });

  it('writes null numbers as empty cells and numbers in their shortest form', () => {
    const cells = formatResultRow(
      row({ metric: null, status: 'crash', agentSeconds: null, runSeconds: null, totalSeconds: null, costUsd: null, inputTokens: null, outputTokens: null, cacheWriteTokens: null }),
    ).split('\t');
    expect(cells[1]).toBe('');
    expect(cells.slice(7)).toEqual(['', '', '', '', '', '', '', '', '', '', '', '']);
    expect(formatResultRow(row({ metric: 1e-5 })).split('\t')[1]).toBe('0.00001');
    expect(formatResultRow(row({ metric: 142000 })).split('\t')[1]).toBe('142000');
  });

  it('never writes a tab or newline inside the description', () => {
    const line = formatResultRow(row({ description: 'tab\there\nnewline' }));
    expect(line.split('\t')).toHaveLength(RESULT_COLUMNS.length);
    expect(line).not.toContain('\n');
  });
});

describe('parseResultsText', () => {
  it('reads back every field of what formatResultRow wrote', () => {
    const rows = [
      row(),
      row({ trial: 4, metric: null, status: 'crash', description: 'x\ty\nz', costUsd: null }),
      row({ trial: 0, status: 'baseline', description: '', metric: -3.5 }),
      row({ tag: 'other', trial: 3, description: 'ünïcødé ✓' }),
    ];
    const text = `${HEADER}\n${rows.map((r) => formatResultRow(r)).join('\n')}\n`;
    const parsed = parseResultsText(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows).toEqual([
      { ...rows[0], agentSeconds: 12.346, totalSeconds: 42.346, costUsd: 0.012346 },
      { ...rows[1], description: 'x y / z', agentSeconds: 12.346, totalSeconds: 42.346 },
      { ...rows[2], description: '(no description)', agentSeconds: 12.346, totalSeconds: 42.346, costUsd: 0.012346 },
      { ...rows[3], agentSeconds: 12.346, totalSeconds: 42.346, costUsd: 0.012346 },
    ]);
  });

  it('skips bad rows and says which line, without failing', () => {
    const good = formatResultRow(row());
    const text = [
      HEADER,
      good,
      'short\trow',
      formatResultRow(row({ trial: 5 })).replace('\tkeep\t', '\tmaybe\t'),
      formatResultRow(row({ trial: 6 })).replace('\t0.9979\t', '\tabc\t'),
      good,
      '',
    ].join('\n');
    const parsed = parseResultsText(text);
    expect(parsed.rows).toHaveLength(1);
    expect(parsed.problems).toEqual([
      'line 3: expected 19 columns, found 2; row skipped',
      'line 4: unknown status "maybe"; row skipped',
      'line 5: metric "abc" is not a number; row skipped',
      'line 6: trial 3 of run "run1" already on line 2; row skipped',
    ]);
  });

  it('reads the reference tool\'s 4-column file with tag "" and trial = row index', () => {
    const text = [
      'commit\tmetric_value\tstatus\tdescription',
      'aaa1111\t5.0\tbaseline\tbaseline',
      'bbb2222\t3.0\tdiscard\t**Change:** a\twith a tab',
      'ccc3333\t0.0\tcrash\tslow',
      'ddd4444\t1e-05\tkeep\tsmaller',
      '',
    ].join('\n');
    const parsed = parseResultsText(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((r) => [r.tag, r.trial, r.commit, r.metric, r.status, r.description])).toEqual([
      ['', 0, 'aaa1111', 5, 'baseline', 'baseline'],
      ['', 1, 'bbb2222', 3, 'discard', '**Change:** a with a tab'],
      ['', 2, 'ccc3333', null, 'crash', 'slow'],
      ['', 3, 'ddd4444', 0.00001, 'keep', 'smaller'],
    ]);
  });

  it('reads a file whose columns were written by another version, by header name', () => {
    const columns = ['commit', 'metric_value', 'status', 'description', 'trial', 'tag', 'future_column'];
    const text = `${columns.join('\t')}\n${formatResultRow(row(), columns)}\n`;
    const [read] = parseResultsText(text).rows;
    expect(read).toMatchObject({ commit: 'abc1234', metric: 0.9979, tag: 'run1', trial: 3, agentSeconds: null });
  });

  it('reads back parent, base and slot, and leaves them out where the cells are empty', () => {
    const rows = [row({ trial: 1, parent: 'aaa1111', base: 'bbb2222', slot: 0 }), row({ trial: 2, parent: 'aaa1111', base: 'aaa1111', slot: 12 }), row({ trial: 3 })];
    const parsed = parseResultsText(`${HEADER}\n${rows.map((r) => formatResultRow(r)).join('\n')}\n`);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows.map((r) => [r.trial, r.parent, r.base, r.slot])).toEqual([[1, 'aaa1111', 'bbb2222', 0], [2, 'aaa1111', 'aaa1111', 12], [3, undefined, undefined, undefined]]);
    expect(parsed.rows[2]).not.toHaveProperty('parent');
  });

  it('reads a slot that is not a number as none, and says which line', () => {
    const line = formatResultRow(row({ slot: 2 })).replace(/\t2\t$/, "\tgpu0\t");
    const parsed = parseResultsText(`${HEADER}\n${line}\n`);
    expect(parsed.rows[0]).not.toHaveProperty('slot');
    expect(parsed.problems).toEqual(['line 2: slot "gpu0" is not a slot number; read as empty']);
  });

  it("reads the previous version's 15 columns (no parent, base, slot) by header name", () => {
    const columns = RESULT_COLUMNS.slice(0, 15);
    const text = `${columns.join('\t')}\n${formatResultRow(row({ parent: 'aaa1111', slot: 1 }), columns)}\n`;
    const parsed = parseResultsText(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.rows).toEqual([{ ...row(), agentSeconds: 12.346, totalSeconds: 42.346, costUsd: 0.012346 }]);
  });

  it('accepts CRLF line endings and blank lines', () => {
    const text = `${HEADER}\r\n\r\n${formatResultRow(row())}\r\n`;
    expect(parseResultsText(text)).toEqual({ rows: [expect.objectContaining({ trial: 3, costUsd: 0.012346 })], problems: [] });
  });
});
