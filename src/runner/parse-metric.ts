/** The metric read from an eval command's output: a finite number, or why there is none. */
export type MetricParse = { ok: true; value: number; line: string } | { ok: false; reason: string };

// Python's float() grammar, which the reference used and users' eval scripts are written against:
// digits with single underscores between them, optional fraction and exponent, or inf/infinity/nan.
const digitPart = '[0-9](?:_?[0-9])*';
const decimalNumber = `(?:${digitPart}(?:\\.(?:${digitPart})?)?|\\.${digitPart})(?:[eE][+-]?${digitPart})?`;
const floatPattern = new RegExp(`^[+-]?(?:${decimalNumber}|inf|infinity|nan)$`, 'i');

/**
 * Converts text the way Python's `float()` does; null when it is not a number.
 * NaN and ±Infinity are returned as numbers: rejecting them is the caller's choice.
 */
export function parsePythonFloat(text: string): number | null {
  const trimmed = text.trim();
  if (!floatPattern.test(trimmed)) return null;
  const body = trimmed.replace(/^[+-]/, '').toLowerCase();
  const negative = trimmed.startsWith('-');
  if (body === 'nan') return Number.NaN;
  if (body === 'inf' || body === 'infinity') return negative ? -Infinity : Infinity;
  return Number(trimmed.replaceAll('_', ''));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A line longer than this cannot be a metric line: it is skipped, so that a line without end
 * costs no memory (a number needs a few dozen bytes; a name is one config key).
 */
export const maxMetricLineBytes = 64 * 1024;

/** Why there is no metric when no line of the output starts with `<name>:`. */
export function noMetricLine(name: string): MetricParse {
  return { ok: false, reason: `no "${name}: <number>" line in the eval output` };
}

/**
 * Reads one line of eval output (without its newline): null when it is not a `<name>: <value>`
 * line, else the metric or why the value is not one. NaN and infinities are refused: the
 * reference treated them as crashes, and a keep/discard comparison against them would be
 * meaningless.
 */
export function readMetricLine(rawLine: string, name: string): MetricParse | null {
  const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
  // [ \t]* rather than \s*: the value must be on the same line as the name.
  const match = new RegExp(`^${escapeRegExp(name)}:[ \\t]*(.*)$`).exec(line);
  if (match === null) return null;
  const value = parsePythonFloat(match[1] ?? '');
  const shown = line.trim();
  if (value === null) return { ok: false, reason: `"${shown}" is not a number` };
  if (Number.isNaN(value)) return { ok: false, reason: `${name} is NaN (a crash)` };
  if (!Number.isFinite(value)) {
    return { ok: false, reason: `${name} is ${value > 0 ? 'inf' : '-inf'} (a crash)` };
  }
  return { ok: true, value, line: shown };
}

/**
 * Finds the first `<name>: <value>` line at the start of a line of `output` and reads the value
 * (see readMetricLine). Text already in memory; eval output streams through MetricScanner.
 */
export function parseMetric(output: string, name: string): MetricParse {
  for (const line of output.split('\n')) {
    if (line.length > maxMetricLineBytes || Buffer.byteLength(line) > maxMetricLineBytes) continue;
    const metric = readMetricLine(line, name);
    if (metric !== null) return metric;
  }
  return noMetricLine(name);
}
