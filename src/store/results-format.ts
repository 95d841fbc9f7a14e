import { isMeasured, outcomes } from '../core/outcome.js';
import type { Outcome } from '../core/outcome.js';
import { RESULT_COLUMNS } from './result-row.js';
import type { ResultRow } from './result-row.js';
import { detachStrings } from './detach-strings.js';

/** Pure formatting and parsing of `results.tsv`. The file handling lives in results-file.ts. */

const MAX_DESCRIPTION = 500;
const NO_DESCRIPTION = '(no description)';
// The reference tool (autocrucible 0.3) wrote only these four columns.
const LEGACY_COLUMNS = ['commit', 'metric_value', 'status', 'description'] as const;
const REQUIRED_COLUMNS = LEGACY_COLUMNS;
// Anything sanitizeDescription would change, apart from the trimming and the length.
// eslint-disable-next-line no-control-regex
const UNCLEAN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * One line, never empty, at most 500 characters: tabs become a space, runs of line breaks
 * become " / ", other control characters are dropped.
 */
export function sanitizeDescription(text: string): string {
  // Most descriptions are clean already (reports sanitize every row they read from a ledger).
  if (text.length <= MAX_DESCRIPTION && text !== '' && !UNCLEAN.test(text) && text === text.trim()) return text;
  const oneLine = text
    .replace(/\t+/g, ' ')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f]/g, '')
    .split(/[\r\n\u0085\u2028\u2029]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .join(' / ');
  const chars = Array.from(oneLine); // code points, so a cut never splits a surrogate pair
  const cut = chars.length > MAX_DESCRIPTION ? `${chars.slice(0, MAX_DESCRIPTION - 1).join('').trimEnd()}…` : oneLine;
  return cut === '' ? NO_DESCRIPTION : cut;
}

/** The row as it reads back from the file: description sanitized, durations and cost rounded. */
export function normalizeResultRow(row: ResultRow): ResultRow {
  return normalizeResultRowInPlace({ ...row });
}

/** normalizeResultRow on a row of the caller's own, changed in place (no copy: reports read thousands). */
export function normalizeResultRowInPlace(row: ResultRow): ResultRow {
  checkCell('commit', row.commit);
  checkCell('tag', row.tag);
  checkCell('timestamp', row.timestamp);
  if (row.parent !== undefined) checkCell('parent', row.parent);
  if (row.base !== undefined) checkCell('base', row.base);
  if (row.slot !== undefined && (!Number.isInteger(row.slot) || row.slot < 0)) throw new Error(`results row slot is not a count: ${row.slot}`);
  if (row.measurements !== undefined && (!Number.isInteger(row.measurements) || row.measurements < 0)) throw new Error(`results row measurements is not a count: ${row.measurements}`);
  if (!Number.isInteger(row.trial) || row.trial < 0) throw new Error(`results row trial is not a count: ${row.trial}`);
  if (row.metric !== null && !Number.isFinite(row.metric)) throw new Error(`results row metric is not finite: ${row.metric}`);
  row.description = sanitizeDescription(row.description);
  row.agentSeconds = roundOrNull(row.agentSeconds, 3);
  row.runSeconds = roundOrNull(row.runSeconds, 3);
  row.totalSeconds = roundOrNull(row.totalSeconds, 3);
  row.costUsd = roundOrNull(row.costUsd, 6);
  return row;
}

function checkCell(name: string, value: string): void {
  if (/[\t\r\n]/.test(value)) throw new Error(`results row ${name} contains a tab or newline: ${JSON.stringify(value)}`);
}

/** One line of results.tsv, without its "\n", in the order of `columns` (RESULT_COLUMNS by default). */
export function formatResultRow(row: ResultRow, columns: readonly string[] = RESULT_COLUMNS): string {
  const clean = normalizeResultRow(row);
  return columns.map((column) => cellOf(clean, column)).join('\t');
}

function cellOf(row: ResultRow, column: string): string {
  switch (column) {
    case 'commit': return row.commit;
    case 'metric_value': return numberCell(row.metric);
    case 'status': return row.status;
    case 'description': return row.description;
    case 'tag': return row.tag;
    case 'trial': return String(row.trial);
    case 'timestamp': return row.timestamp;
    case 'agent_seconds': return numberCell(row.agentSeconds);
    case 'run_seconds': return numberCell(row.runSeconds);
    case 'total_seconds': return numberCell(row.totalSeconds);
    case 'cost_usd': return numberCell(row.costUsd);
    case 'input_tokens': return numberCell(row.inputTokens ?? null);
    case 'output_tokens': return numberCell(row.outputTokens ?? null);
    case 'cache_read_tokens': return numberCell(row.cacheReadTokens ?? null);
    case 'cache_write_tokens': return numberCell(row.cacheWriteTokens ?? null);
    case 'parent': return row.parent ?? '';
    case 'base': return row.base ?? '';
    case 'slot': return numberCell(row.slot ?? null);
    case 'measurements': return numberCell(row.measurements ?? null);
    // A column written by a newer crucible that this one does not know: leave it empty.
    default: return '';
  }
}

function numberCell(value: number | null): string {
  return value === null ? '' : String(value);
}

function roundOrNull(value: number | null, digits: number): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  // Already on the grid (whole milliseconds, say): toFixed would give it back, at a cost that
  // shows when a report reads ten thousand rows. Exact below 1e6, where the grid is far wider
  // than the spacing of doubles.
  const scale = 10 ** digits;
  if (value === 0) return 0; // -0 too, as toFixed has it
  if (Math.abs(value) < 1e6 && Math.round(value * scale) / scale === value) return value;
  return Number(value.toFixed(digits));
}

export interface ResultsTable {
  /** Column names from the header line (RESULT_COLUMNS when the header is missing). */
  columns: readonly string[];
  /** The reference tool's 4-column format: rows carry tag "" and trial = row index. */
  legacy: boolean;
  rows: ResultRow[];
  /** One line each, "line N: what is wrong"; the rows concerned were skipped. */
  problems: string[];
}

/** Reads results.tsv text. Never throws on bad content: bad rows are skipped and reported. */
export function parseResultsText(text: string): { rows: ResultRow[]; problems: string[] } {
  const { rows, problems } = parseResultsTable(text);
  return { rows, problems };
}

export function parseResultsTable(text: string): ResultsTable {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const problems: string[] = [];
  const rows: ResultRow[] = [];
  const first = stripCr(lines[0] ?? '');
  let columns: readonly string[] = RESULT_COLUMNS;
  let start = 0;
  if (first.split('\t')[0]?.trim() === 'commit') {
    // Kept as long as the file is open: not views of the whole file's text.
    columns = detachStrings(first.split('\t').map((name) => name.trim()), '\t');
    start = 1;
    const missing = REQUIRED_COLUMNS.filter((name) => !columns.includes(name));
    if (missing.length > 0) {
      return { columns, legacy: false, rows, problems: [`line 1: header lacks column ${missing.join(', ')}; no row read`] };
    }
  } else if (first !== '') {
    problems.push('line 1: no header line; reading columns in the default order');
  }
  const legacy = !columns.includes('tag') || !columns.includes('trial');
  const seen = new Map<string, number>();
  const positions = columnPositions(columns);
  let dataIndex = 0;
  for (let i = start; i < lines.length; i += 1) {
    const line = stripCr(lines[i] ?? '');
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    const parsed = legacy ? parseLegacyLine(line, dataIndex, columns) : parseLine(line, columns.length, positions);
    dataIndex += 1;
    if (typeof parsed === 'string') {
      problems.push(`line ${lineNo}: ${parsed}; row skipped`);
      continue;
    }
    problems.push(...parsed.notes.map((note) => `line ${lineNo}: ${note}`));
    const key = `${parsed.row.tag}\t${parsed.row.trial}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      problems.push(`line ${lineNo}: trial ${parsed.row.trial} of run "${parsed.row.tag}" already on line ${earlier}; row skipped`);
      continue;
    }
    seen.set(key, lineNo);
    rows.push(parsed.row);
  }
  return { columns, legacy, rows, problems };
}

type ParsedLine = { row: ResultRow; notes: string[] } | string;

/** Where each column this version reads sits in a file's lines: -1 when the file has none. */
type ColumnPositions = Readonly<Record<(typeof RESULT_COLUMNS)[number], number>>;

// Looked up once a file rather than searched for at every cell: nineteen cells a row, and a run
// opens a project of thousands of rows (a sixth of the parse's time at four thousand).
function columnPositions(columns: readonly string[]): ColumnPositions {
  return Object.fromEntries(RESULT_COLUMNS.map((name) => [name, columns.indexOf(name)])) as ColumnPositions;
}

function parseLine(line: string, columnCount: number, at: ColumnPositions): ParsedLine {
  const cells = line.split('\t');
  if (cells.length !== columnCount) return `expected ${columnCount} columns, found ${cells.length}`;
  const cell = (name: keyof ColumnPositions): string => {
    const index = at[name];
    return index < 0 ? '' : (cells[index] ?? '');
  };
  const status = parseStatus(cell('status'));
  if (status === null) return `unknown status "${cell('status')}"`;
  const trialText = cell('trial').trim();
  if (!/^\d+$/.test(trialText)) return `trial "${trialText}" is not a number`;
  const metric = parseOptionalNumber(cell('metric_value'));
  if (metric === undefined) return `metric "${cell('metric_value')}" is not a number`;
  const notes: string[] = [];
  const optional = (name: keyof ColumnPositions): number | null => {
    const text = cell(name);
    const value = parseOptionalNumber(text);
    if (value !== undefined) return value;
    notes.push(`${name} "${text}" is not a number; read as empty`);
    return null;
  };
  const row: ResultRow = {
    commit: cell('commit').trim(),
    metric,
    status,
    description: cell('description'),
    tag: cell('tag').trim(),
    trial: Number(trialText),
    timestamp: cell('timestamp').trim(),
    agentSeconds: optional('agent_seconds'),
    runSeconds: optional('run_seconds'),
    totalSeconds: optional('total_seconds'),
    costUsd: optional('cost_usd'),
    inputTokens: optional('input_tokens'),
    outputTokens: optional('output_tokens'),
    cacheReadTokens: optional('cache_read_tokens'),
    cacheWriteTokens: optional('cache_write_tokens'),
  };
  // Absent rather than empty: a file of an older version has no such columns, and most rows none.
  const parent = cell('parent').trim();
  if (parent !== '') row.parent = parent;
  const base = cell('base').trim();
  if (base !== '') row.base = base;
  const slotText = cell('slot').trim();
  if (/^\d{1,9}$/.test(slotText)) row.slot = Number(slotText);
  else if (slotText !== '') notes.push(`slot "${slotText}" is not a slot number; read as empty`);
  const measurementsText = cell('measurements').trim();
  if (/^\d{1,9}$/.test(measurementsText)) row.measurements = Number(measurementsText);
  else if (measurementsText !== '') notes.push(`measurements "${measurementsText}" is not a count; read as empty`);
  return { row, notes };
}

// The reference tool wrote descriptions raw, tabs included: the description is everything after
// the third tab. Its crash rows carry a placeholder metric of 0.0, which is not a measurement.
function parseLegacyLine(line: string, index: number, columns: readonly string[]): ParsedLine {
  const cells = line.split('\t');
  if (cells.length < columns.length) return `expected ${columns.length} columns, found ${cells.length}`;
  const at = (name: (typeof LEGACY_COLUMNS)[number]): string => cells[columns.indexOf(name)] ?? '';
  const status = parseStatus(at('status'));
  if (status === null) return `unknown status "${at('status')}"`;
  let metric: number | null = null;
  if (isMeasured(status)) {
    const value = parseOptionalNumber(at('metric_value'));
    if (value === undefined || value === null) return `metric "${at('metric_value')}" is not a number`;
    metric = value;
  }
  const descriptionIndex = columns.indexOf('description');
  const description = descriptionIndex === columns.length - 1 ? cells.slice(descriptionIndex).join('\t') : at('description');
  const row: ResultRow = {
    commit: at('commit').trim(),
    metric,
    status,
    description: sanitizeDescription(description),
    tag: '',
    trial: index,
    timestamp: '',
    agentSeconds: null,
    runSeconds: null,
    totalSeconds: null,
    costUsd: null,
  };
  return { row, notes: [] };
}

function parseStatus(text: string): Outcome | null {
  const value = text.trim();
  return (outcomes as readonly string[]).includes(value) ? (value as Outcome) : null;
}

/** "" → null; a finite number → it; anything else → undefined. */
function parseOptionalNumber(text: string): number | null | undefined {
  const value = text.trim();
  if (value === '') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
