/** What kind of failure an experiment's error output shows, and what to tell the agent about it. */
export interface CrashDiagnosis {
  label: string;
  advice: string;
}

interface CrashRule extends CrashDiagnosis {
  patterns: readonly RegExp[];
}

const tooSlow: CrashRule = {
  label: 'Too slow',
  advice: 'The experiment ran past its time limit, so make it cheaper (a faster algorithm, less work) rather than adding more.',
  patterns: [/\btimed out\b/i, /\bTimeoutError\b/],
};

// Checked in this order, first match wins. Resource limits come before logic bugs because
// Node reports stack overflow as "RangeError: Maximum call stack size exceeded".
// Every pattern is bounded by \b: the reference's bare /OOM/i also matched "boom" and "room".
const rules: readonly CrashRule[] = [
  {
    label: 'Typo/syntax',
    advice: 'The code does not parse or names something undefined: fix the mistake and keep the idea rather than abandoning it.',
    patterns: [/\b(?:SyntaxError|IndentationError|TabError|NameError|ReferenceError)\b/],
  },
  {
    label: 'Missing module',
    advice: 'That module is not installed in this environment, so drop it and use only what is already available.',
    patterns: [
      /\b(?:ImportError|ModuleNotFoundError|ERR_MODULE_NOT_FOUND)\b/,
      /\bCannot find (?:module|package)\b/i,
      /\bNo module named\b/,
    ],
  },
  {
    label: 'Resource limit',
    advice: 'The experiment ran out of memory or stack, so move away from this direction or make it use far less.',
    patterns: [
      /\b(?:MemoryError|OutOfMemoryError|RecursionError)\b/,
      /\bOOM(?:Killed)?\b/i,
      /\b(?:heap |CUDA )?out of memory\b/i,
      /\bKilled\b/,
      /\bSIGKILL\b/,
      /\bMaximum call stack\b/i,
      /\bmaximum recursion depth\b/i,
      /\bstd::bad_alloc\b/,
    ],
  },
  {
    label: 'Logic bug',
    advice: 'The code runs but fails on its own data: fix the bug, and rewrite the function if the same error comes back.',
    patterns: [
      /\b(?:TypeError|ValueError|RangeError|AssertionError|IndexError|KeyError|ZeroDivisionError|AttributeError)\b/,
    ],
  },
  tooSlow,
];

const unknown: CrashDiagnosis = {
  label: 'Unknown',
  advice: 'Read the error output closely to find the root cause before changing anything else.',
};

function matchesAny(text: string, patterns: readonly RegExp[]): boolean {
  return patterns.some((pattern) => pattern.test(text));
}

/** Classifies the error output of a crashed experiment (pure; text in, diagnosis out). */
export function diagnoseCrash(text: string): CrashDiagnosis {
  // A headline saying the experiment timed out is crucible's own verdict: whatever the killed
  // process printed on its way out (often "Killed" or a KeyboardInterrupt trace) is a symptom.
  const headline = text.split('\n').find((line) => line.trim() !== '') ?? '';
  if (matchesAny(headline, tooSlow.patterns)) return { label: tooSlow.label, advice: tooSlow.advice };
  for (const rule of rules) {
    if (matchesAny(text, rule.patterns)) return { label: rule.label, advice: rule.advice };
  }
  return unknown;
}
