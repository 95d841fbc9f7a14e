// The vocabulary moved to src/core/outcome.ts, below every layer that uses it; this path stays for
// code and tests written against it.
export { outcomes, isMeasured, isKept, isOutcome, type Outcome } from '../core/outcome.js';
