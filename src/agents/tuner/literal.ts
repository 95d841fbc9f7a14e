/**
 * Numeric literals in source lines: finding them, writing new values in the style of the old
 * ones, and replacing exactly their characters.
 */
import type { TunedParam, TuningChange } from './types.js';

export interface NumericLiteral {
  /** The characters of the number: sign, digits, "_", point and exponent (a suffix such as "f" excluded). */
  text: string;
  value: number;
  /** 0-based offset in the line. */
  index: number;
}

// A sign belongs to the literal only where it cannot be a binary operator: the lookbehind refuses
// a start right after an operand ("10-3" yields "3"). A C-style suffix (0.5f, 10L) is allowed and kept.
const LITERAL =
  /(?<![\w$.])[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?(?=[fFdDlLuU]{0,3}(?![\w$.]))/g;

/** Every numeric literal in `code`, left to right. */
export function findNumericLiterals(code: string): NumericLiteral[] {
  const found: NumericLiteral[] = [];
  for (const match of code.matchAll(LITERAL)) {
    const text = match[0];
    const value = Number(text.replace(/_/g, ''));
    if (Number.isFinite(value)) found.push({ text, value, index: match.index });
  }
  return found;
}

/** Parses a number as the tuner writes or reads it ("1_000", "2e-3", "-0.5"); NaN when it is not one. */
export function parseNumber(text: string): number {
  const trimmed = text.trim();
  if (!/^[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?$/.test(trimmed)) return Number.NaN;
  return Number(trimmed.replace(/_/g, ''));
}

const SIGNIFICANT_DIGITS = 4;

/**
 * Writes `value` the way the user wrote `original`: whole numbers for int constants, at most four
 * significant digits (of large whole numbers too), an exponent when the original had one (1e-3 → 2e-3), a decimal
 * point when the original had one (0.9 → 1.0, so a Python float stays a float), "_" groups when the
 * original used them.
 */
export function formatValue(value: number, original: string, int: boolean): string {
  const hasPoint = original.includes('.');
  const expMatch = /[eE]([-+]?)/.exec(original);
  if (int) {
    // Large whole numbers read better rounded too (670908 → 670900); the search never needs more.
    const whole = Math.round(Math.abs(value) >= 10_000 ? Number(value.toPrecision(SIGNIFICANT_DIGITS)) : value);
    if (expMatch !== null && Math.abs(whole) >= 1000) return formatExponent(whole, expMatch);
    const text = original.includes('_') ? groupDigits(String(whole)) : String(whole);
    return hasPoint && expMatch === null ? `${text}.0` : text;
  }
  const rounded = Number(value.toPrecision(SIGNIFICANT_DIGITS));
  if (expMatch !== null && rounded !== 0) return formatExponent(rounded, expMatch);
  let text = String(rounded);
  if (hasPoint && /^-?\d+$/.test(text)) text += '.0';
  return text;
}

function formatExponent(value: number, expMatch: RegExpExecArray): string {
  const [mantissa = '', exponent = ''] = value.toExponential(SIGNIFICANT_DIGITS - 1).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  const letter = expMatch[0].charAt(0);
  // toExponential writes "e+3"; keep the "+" only if the user wrote one.
  const exp = exponent.startsWith('+') && expMatch[1] !== '+' ? exponent.slice(1) : exponent;
  return `${trimmed}${letter}${exp}`;
}

function groupDigits(text: string): string {
  const sign = text.startsWith('-') ? '-' : '';
  const digits = sign === '' ? text : text.slice(1);
  if (digits.length <= 4) return text;
  return sign + digits.replace(/\B(?=(\d{3})+$)/g, '_');
}

/**
 * Replaces the literal at `column` of `line` with `replacement`, keeping every other character
 * (the comment and the marker included). Throws when the line no longer holds `literal` there:
 * the file changed between reading and writing, which the tuner must not paper over.
 */
export function replaceLiteral(line: string, column: number, literal: string, replacement: string): string {
  if (line.slice(column, column + literal.length) !== literal) {
    throw new Error(`expected "${literal}" at column ${column + 1} of: ${line}`);
  }
  return line.slice(0, column) + replacement + line.slice(column + literal.length);
}

/**
 * The change that writes `to` the way the file writes the constant, or null when it writes the
 * value already there. Rounding for readability (65532 → 65530 is fine, 65535.4 → 65540 is not)
 * must keep the range.
 */
export function writtenChange(param: TunedParam, to: number): TuningChange | null {
  let toText = formatValue(to, param.literal, param.int);
  let toValue = parseNumber(toText);
  if (toValue < param.low || toValue > param.high) {
    toValue = Math.min(param.high, Math.max(param.low, to));
    toText = String(toValue);
  }
  if (Number.isNaN(toValue) || toValue === param.value) return null;
  return { name: param.name, from: param.value, to: toValue, fromText: param.literal, toText };
}
