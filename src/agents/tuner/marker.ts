/**
 * `@tune` markers: a comment (//, #, -- or ;) holding `@tune LOW..HIGH [int] [log|linear]` on the
 * line of the constant it tunes. The constant is the last numeric literal before the comment.
 */
import { findNumericLiterals } from './literal.js';

export interface Marker {
  /** The identifier the constant is assigned to, when the line says (`NAME =`, `NAME:`, ...). */
  identifier: string | null;
  file: string;
  line: number;
  low: number;
  high: number;
  int: boolean;
  log: boolean;
  value: number;
  literal: string;
  column: number;
}

export interface MarkerScan {
  markers: Marker[];
  /** One line each, starting with "file:line:". */
  problems: string[];
}

/** Finds every marker of one file. Malformed markers become problems, never exceptions. */
export function parseMarkers(text: string, file: string): MarkerScan {
  const scan: MarkerScan = { markers: [], problems: [] };
  if (!text.includes('@tune')) return scan;
  text.split('\n').forEach((raw, index) => {
    const result = parseMarkerLine(raw.replace(/\r$/, ''), file, index + 1);
    if (result === null) return;
    if (typeof result === 'string') scan.problems.push(`${file}:${index + 1}: ${result}`);
    else scan.markers.push(result);
  });
  return scan;
}

const NUMBER = String.raw`[-+]?(?:\d[\d_]*(?:\.\d[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?`;
const RANGE = new RegExp(String.raw`^\s+(${NUMBER})\s*\.\.\s*(${NUMBER})(?=\s|$)(.*)$`);
// Closers of block comments (/* */, <!-- -->, (* *)) may follow the options.
const IGNORED_TOKENS = new Set(['*/', '-->', '*)']);

/**
 * One line: null when it holds no marker in a comment; a problem (text without the file:line
 * prefix) when the marker is malformed; the marker otherwise.
 */
export function parseMarkerLine(line: string, file: string, lineNumber: number): Marker | string | null {
  const tuneAt = line.search(/@tune(?![\w-])/);
  if (tuneAt === -1) return null;
  const openers = findCommentOpeners(line, tuneAt);
  // "@tune" outside any comment (in a string, in prose) is not a marker.
  if (openers.length === 0) return null;

  const spec = line.slice(tuneAt + '@tune'.length);
  const range = RANGE.exec(spec);
  if (range === null) return `@tune needs a range LOW..HIGH, as in "@tune 2..64 int log"`;
  const [, lowText = '', highText = '', rest = ''] = range;
  const low = Number(lowText.replace(/_/g, ''));
  const high = Number(highText.replace(/_/g, ''));
  let int = false;
  let log: boolean | null = null;
  for (const token of rest.trim().split(/\s+/)) {
    if (token === '' || IGNORED_TOKENS.has(token)) continue;
    if (token === 'int') int = true;
    else if (token === 'log' || token === 'linear') {
      if (log !== null && log !== (token === 'log')) return `@tune cannot be both log and linear`;
      log = token === 'log';
    } else return `@tune: unknown option "${token}" (use int, log or linear)`;
  }
  const shown = `@tune ${lowText}..${highText}`;
  if (!(low < high)) return `${shown}: LOW must be below HIGH`;
  if (log === true && low <= 0) return `${shown} log: a log scale needs LOW > 0`;
  if (int && (!Number.isInteger(low) || !Number.isInteger(high))) return `${shown} int: an int range needs whole-number bounds`;

  const target = findTarget(line, openers);
  if (target === null) return `${shown}: no number before the comment to tune`;
  return {
    identifier: findIdentifier(line.slice(0, target.index)),
    file,
    line: lineNumber,
    low,
    high,
    int,
    log: log ?? false,
    value: target.value,
    literal: target.text,
    column: target.index,
  };
}

interface Opener {
  index: number;
  semicolon: boolean;
}

/** Comment openers before `end` that are not inside a string literal. */
function findCommentOpeners(line: string, end: number): Opener[] {
  const openers: Opener[] = [];
  let quote: string | null = null;
  for (let i = 0; i < end; i++) {
    const c = line.charAt(i);
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#' || c === ';') openers.push({ index: i, semicolon: c === ';' });
    else if ((c === '/' || c === '-') && line.charAt(i + 1) === c) {
      openers.push({ index: i, semicolon: false });
      i++;
    }
  }
  return openers;
}

/**
 * The literal to tune: the last number before the comment. ";" ends statements in C-like code
 * and opens comments in assembly, Lisp and INI files, so it counts as the comment only when no
 * other opener is there; of the candidates, the first one with a number before it wins, which
 * skips a leading "#define" or an "i--".
 */
function findTarget(line: string, openers: readonly Opener[]) {
  const strong = openers.filter((o) => !o.semicolon);
  for (const opener of strong.length > 0 ? strong : openers) {
    const literals = findNumericLiterals(line.slice(0, opener.index));
    const last = literals[literals.length - 1];
    if (last !== undefined) return last;
  }
  return null;
}

// `NAME =`, `NAME:`, `"name":`, `NAME :=`, `x: int =`, `let/const/var NAME =`; only value-ish
// characters may stand between the operator and the literal, so the nearest assignment wins.
const ASSIGNMENT =
  /["']?([A-Za-z_$][\w$.]*)["']?\s*(?::\s*[A-Za-z_$][\w$.[\]<>|, ]*?)?\s*(?::=|=(?!=)|:)\s*[^=:;,]*$/;
const DEFINE = /#\s*define\s+([A-Za-z_]\w*)\s+$/;

function findIdentifier(before: string): string | null {
  const match = ASSIGNMENT.exec(before) ?? DEFINE.exec(before);
  return match?.[1] ?? null;
}
