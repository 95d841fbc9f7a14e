/**
 * How numbers look in every report, so that the same value reads the same in status, history,
 * compare and postmortem.
 */

/**
 * A metric for people: "-" for no value; integers as they are ("142000", not "142000.0");
 * anything else with at most 6 significant digits and no trailing zeros ("0.000123457",
 * "3.14159"); non-integers from 1e6 up and anything below 1e-4 in exponent form
 * ("1.23457e+9", "1.5e-7").
 */
export function formatMetric(value: number | null): string {
  if (value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  // Integers print exactly while they are short enough to read.
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return Object.is(value, -0) ? '0' : String(value);
  // toPrecision only switches to exponent form below 1e-6, which still leaves long runs of
  // zeros ("0.00000155438"); switch earlier.
  const text = Math.abs(value) < 1e-4 ? value.toExponential(5) : value.toPrecision(6);
  return stripTrailingZeros(text);
}

function stripTrailingZeros(text: string): string {
  const [mantissa = '', exponent] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return exponent === undefined ? trimmed : `${trimmed}e${exponent}`;
}

/**
 * A signed percentage: "+44.9%", "-3.2%", "0.0%", "-" for none. Values below 0.1% keep one
 * significant digit ("+0.04%") so that a real but small change never reads as zero.
 */
export function formatPercent(value: number | null): string {
  if (value === null) return '-';
  if (!Number.isFinite(value)) return `${value > 0 ? '+' : ''}${String(value)}%`;
  if (value === 0) return '0.0%';
  const sign = value > 0 ? '+' : '-';
  const magnitude = Math.abs(value);
  const digits = magnitude >= 0.1 ? magnitude.toFixed(1) : stripTrailingZeros(magnitude.toPrecision(1));
  return `${sign}${digits}%`;
}

/** A signed metric difference: "+44000", "-0.5", "0". */
export function formatSignedMetric(value: number): string {
  const text = formatMetric(value);
  return value > 0 ? `+${text}` : text;
}

/** A duration for people: "42s", "5m 12s", "3h 04m". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m ${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** US dollars: "$1.23"; sub-cent amounts keep their first significant digit ("$0.004"). */
export function formatCost(usd: number): string {
  if (usd > 0 && usd < 0.01) return `$${stripTrailingZeros(usd.toPrecision(1))}`;
  return `$${usd.toFixed(2)}`;
}
