import type { Direction } from '../config/schema.js';
import type { Outcome } from '../core/outcome.js';
import { formatMetric } from './format.js';
import { findBestKept, isBetter } from '../core/objective.js';
import { isKept } from '../core/outcome.js';
import { measureWidth, padStartToWidth, truncateToWidth } from './text-width.js';
import { largest, smallest } from '../core/statistics.js';

export interface ChartPoint {
  trial: number;
  /** null for trials without a metric: they are marked on the axis, never plotted as 0. */
  metric: number | null;
  status: Outcome;
  bestSoFar: number | null;
}

export interface ChartOptions {
  /** Columns of the whole chart, labels included; no line is wider. */
  width: number;
  /** Rows of the plot area (the axis, its labels and the legend come on top). */
  height: number;
  /** Needed to choose the point a column shows when it holds several trials. */
  direction: Direction;
}

interface Column {
  /** The best measured trial of the column's trials. */
  point: ChartPoint | undefined;
  /** Some trial of the column has no metric. */
  unmeasured: boolean;
  bestSoFar: number | null;
}

/**
 * Metric over trial number: every measured trial as a dot, the best so far as a step line, the
 * overall best as ★. Many trials share a column when they outnumber the columns; a few trials
 * are spread over the width. Returns `height + 3` lines (plot, axis, trial numbers, legend).
 */
export function renderTrendChart(points: readonly ChartPoint[], opts: ChartOptions): string {
  const ordered = [...points].sort((a, b) => a.trial - b.trial);
  const measured = ordered.filter((point) => point.metric !== null);
  if (measured.length === 0) return 'No measured trials to chart.';

  // The y labels are two of these values, known only once the columns are built: reserve room
  // for the widest any of them could be.
  const values = ordered.flatMap((point) => [point.metric, point.bestSoFar]).filter((v): v is number => v !== null);
  const labelWidth = largest(values.map((value) => measureWidth(formatMetric(value))));
  const plotWidth = Math.max(1, opts.width - labelWidth - 2);
  const columns = buildColumns(ordered, plotWidth, opts.direction);

  // Scale to what is drawn: a bucket's worse trials are not shown, so they must not stretch the axis.
  const drawn = columns.flatMap((column) => [column.point?.metric ?? null, column.bestSoFar]).filter((v): v is number => v !== null);
  const low = smallest(drawn);
  const high = largest(drawn);
  const flat = low === high;
  const height = flat ? Math.max(1, opts.height) : Math.max(2, opts.height);
  const highLabel = formatMetric(high);
  const lowLabel = formatMetric(low);
  const rowOf = (value: number): number =>
    flat ? Math.floor((height - 1) / 2) : height - 1 - Math.round(((value - low) / (high - low)) * (height - 1));
  const grid = Array.from({ length: height }, () => Array.from({ length: plotWidth }, () => ' '));
  const put = (row: number, column: number, char: string): void => {
    const line = grid[row];
    if (line !== undefined && column >= 0 && column < plotWidth) line[column] = char;
  };

  drawStepLine(columns, rowOf, put);
  columns.forEach((column, index) => {
    if (column.point?.metric == null) return;
    put(rowOf(column.point.metric), index, isKept(column.point.status) ? '●' : '·');
  });
  const best = findBest(measured, opts.direction);
  if (best?.metric != null) put(rowOf(best.metric), columnOf(best.trial, ordered, plotWidth), '★');

  const labelRows = new Map<number, string>(flat ? [[rowOf(high), highLabel]] : [[0, highLabel], [height - 1, lowLabel]]);
  const lines = grid.map((cells, row) => {
    const label = labelRows.get(row);
    return `${padStartToWidth(label ?? '', labelWidth)} ${label === undefined ? '│' : '┤'}${cells.join('')}`.trimEnd();
  });
  const hasGaps = columns.some((column) => column.unmeasured && column.point === undefined);
  const axis = columns.map((column) => (column.unmeasured && column.point === undefined ? 'x' : '─')).join('');
  lines.push(`${' '.repeat(labelWidth)} └${axis}`);
  lines.push(`${' '.repeat(labelWidth + 2)}${renderTrialLabels(ordered, plotWidth)}`.trimEnd());
  const legend = `● kept  · discarded  ─ best so far  ★ best${hasGaps ? '  x no metric' : ''}`;
  lines.push(truncateToWidth(`${' '.repeat(labelWidth + 2)}${legend}`, opts.width));
  return lines.join('\n');
}

// Few trials: spread them over the width so the chart reads at a glance. Many: equal buckets
// of consecutive trials per column.
function columnOf(trial: number, ordered: readonly ChartPoint[], plotWidth: number): number {
  const first = ordered[0]?.trial ?? 0;
  const span = (ordered[ordered.length - 1]?.trial ?? first) - first;
  if (span === 0) return 0;
  if (span + 1 <= plotWidth) return Math.round(((trial - first) * (plotWidth - 1)) / span);
  return Math.min(plotWidth - 1, Math.floor(((trial - first) * plotWidth) / (span + 1)));
}

function buildColumns(ordered: readonly ChartPoint[], plotWidth: number, direction: Direction): Column[] {
  const columns: Column[] = Array.from({ length: plotWidth }, () => ({ point: undefined, unmeasured: false, bestSoFar: null }));
  for (const point of ordered) {
    const column = columns[columnOf(point.trial, ordered, plotWidth)];
    if (column === undefined) continue;
    // Trials come in order, so the last one of a column holds its best so far.
    if (point.bestSoFar !== null) column.bestSoFar = point.bestSoFar;
    if (point.metric === null) {
      column.unmeasured = true;
    } else if (column.point === undefined || outranks(point, column.point, direction)) {
      column.point = point;
    }
  }
  // Columns between spread-out trials carry the line on, up to the last trial and no further.
  const lastColumn = columnOf(ordered[ordered.length - 1]?.trial ?? 0, ordered, plotWidth);
  let carried: number | null = null;
  columns.forEach((column, index) => {
    if (index > lastColumn) return;
    if (column.bestSoFar === null) column.bestSoFar = carried;
    carried = column.bestSoFar;
  });
  return columns;
}

function outranks(candidate: ChartPoint, holder: ChartPoint, direction: Direction): boolean {
  if (candidate.metric === null || holder.metric === null) return false;
  if (isBetter(candidate.metric, holder.metric, direction)) return true;
  // On a tie, show the kept trial: it is the one on the best-so-far line.
  return candidate.metric === holder.metric && isKept(candidate.status) && !isKept(holder.status);
}

function findBest(measured: readonly ChartPoint[], direction: Direction): ChartPoint | undefined {
  return findBestKept(measured, direction, (point) => point.status);
}

// A step line: flat runs of "─", and where the best changes, a vertical joint in that column.
function drawStepLine(
  columns: readonly Column[],
  rowOf: (value: number) => number,
  put: (row: number, column: number, char: string) => void,
): void {
  let previousRow: number | null = null;
  columns.forEach((column, index) => {
    if (column.bestSoFar === null) return;
    const row = rowOf(column.bestSoFar);
    if (previousRow === null || previousRow === row) {
      put(row, index, '─');
    } else {
      const up = row < previousRow;
      put(previousRow, index, up ? '┘' : '┐');
      for (let between = Math.min(row, previousRow) + 1; between < Math.max(row, previousRow); between += 1) {
        put(between, index, '│');
      }
      put(row, index, up ? '┌' : '└');
    }
    previousRow = row;
  });
}

function renderTrialLabels(ordered: readonly ChartPoint[], plotWidth: number): string {
  const first = String(ordered[0]?.trial ?? 0);
  const last = String(ordered[ordered.length - 1]?.trial ?? 0);
  if (first === last) return `trial ${first}`;
  const middle = 'trial';
  const room = plotWidth - first.length - last.length;
  if (room < 1) return first;
  if (room < middle.length + 2) return first + ' '.repeat(room) + last;
  const left = Math.floor((room - middle.length) / 2);
  return first + ' '.repeat(left) + middle + ' '.repeat(room - middle.length - left) + last;
}
