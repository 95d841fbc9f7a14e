/**
 * The few statistics the keep rule and the reports need, pure and dependency-free. Non-finite
 * values (a crashed run has no value; a hand-edited ledger may hold anything) never enter them.
 */

export const aggregates = ['median', 'mean', 'min', 'max'] as const;
export type Aggregate = (typeof aggregates)[number];

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); null below two values. */
  sd: number | null;
  /** sd / |mean|, a fraction (0.05 is 5 %); null without an sd or when the mean is 0. */
  cv: number | null;
  min: number;
  max: number;
  median: number;
}

/**
 * Math.max and Math.min of a list of any length, with their meaning (-Infinity and Infinity for
 * none, NaN if any is NaN). Spread into Math.max, a list of a run's trials overflowed the stack
 * past about 120,000 values: a report of a 60,000-trial run (two values a trial) threw.
 */
export function largest(values: Iterable<number>): number {
  let result = -Infinity;
  for (const value of values) result = Math.max(result, value);
  return result;
}

export function smallest(values: Iterable<number>): number {
  let result = Infinity;
  for (const value of values) result = Math.min(result, value);
  return result;
}

export function finiteValues(values: readonly number[]): number[] {
  return values.filter((value) => Number.isFinite(value));
}

/** n, mean, sd, CV, min, max and median of the finite values; null when there are none. */
export function summarize(values: readonly number[]): Summary | null {
  const clean = finiteValues(values);
  const n = clean.length;
  if (n === 0) return null;
  const min = smallest(clean);
  const max = largest(clean);
  // Equal values are their own mean, exactly: summed and divided, three runs of 0.8747 give
  // 0.8747000000000001 and an sd of 1e-16, which would call a deterministic metric noisy.
  const mean = min === max ? min : clean.reduce((sum, value) => sum + value, 0) / n;
  // Two passes: a spread of 1e-9 around 1e6 must not vanish in rounding.
  const sd = n < 2 ? null : min === max ? 0 : Math.sqrt(clean.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1));
  return {
    n,
    mean,
    sd,
    cv: sd === null || mean === 0 ? null : sd / Math.abs(mean),
    min,
    max,
    median: medianOf(clean),
  };
}

/** One number standing for repeated measurements; NaN when no value is finite. */
export function aggregate(values: readonly number[], how: Aggregate): number {
  const clean = finiteValues(values);
  if (clean.length === 0) return Number.NaN;
  switch (how) {
    case 'median':
      return medianOf(clean);
    case 'mean':
      return clean.reduce((sum, value) => sum + value, 0) / clean.length;
    case 'min':
      return smallest(clean);
    case 'max':
      return largest(clean);
  }
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df > 0; Infinity gives the normal). */
export function studentTCdf(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (t === Number.POSITIVE_INFINITY) return 1;
  if (t === Number.NEGATIVE_INFINITY) return 0;
  if (!Number.isFinite(df)) return normalCdf(t);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

// Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7).
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The regularized incomplete beta function I_x(a, b), by its continued fraction (Numerical Recipes, Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast only on this side of the mean; the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) covers the other.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(x, a, b)) / a;
  return 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-12) break;
  }
  return h;
}

// Lanczos approximation (g = 7, n = 9): about 15 significant digits for x > 0.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}
