// model.js: the model the agent improves. A hidden harness trains it and scores its predictions.
//
// Contract:
//   train(X, y) -> model
//     X: Array of rows, each an Array of 10 numbers (the features); y: Array of numbers (the
//     targets), y.length === X.length. Returns anything predict() understands.
//   predict(model, X) -> Array or Float64Array of X.length finite numbers, one per row.
// The harness calls train once on the training rows, then predict on the training rows and on
// validation rows it never shows with their targets. Both must be synchronous and deterministic.
//
// The baseline: ordinary least squares on the standardised features, solved through the normal
// equations. It can also add polynomial terms (all products of up to DEGREE features) and hinge
// terms max(0, x - knot) at KNOTS quantiles of each feature, with a ridge penalty; as shipped it
// does neither. The offline tuner (`--agent tuner`) searches the ranges marked on the constants.

const DEGREE = 1; // @tune 1..3 int
const KNOTS = 0; // @tune 0..16 int
const RIDGE_LAMBDA = 1e-6; // @tune 1e-6..1e4 log

export function train(X, y) {
  const scaler = fitScaler(X);
  const terms = listTerms(X[0].length, DEGREE);
  const knots = placeKnots(X.map(scaler), KNOTS);
  const basis = { terms, knots, width: 1 + terms.length + knots.length }; // 1: the intercept
  const width = basis.width;
  // Normal equations A w = b with A = Phi'Phi + lambda I (the intercept is not penalised).
  const A = new Float64Array(width * width);
  const b = new Float64Array(width);
  const phi = new Float64Array(width);
  for (let i = 0; i < X.length; i++) {
    expand(scaler(X[i]), basis, phi);
    for (let r = 0; r < width; r++) {
      const pr = phi[r];
      b[r] += pr * y[i];
      for (let c = r; c < width; c++) A[r * width + c] += pr * phi[c];
    }
  }
  for (let r = 0; r < width; r++) {
    for (let c = 0; c < r; c++) A[r * width + c] = A[c * width + r];
    if (r > 0) A[r * width + r] += RIDGE_LAMBDA;
  }
  return { scaler, basis, weights: solveSymmetric(A, b, width) };
}

export function predict(model, X) {
  const width = model.basis.width;
  const phi = new Float64Array(width);
  const out = new Float64Array(X.length);
  for (let i = 0; i < X.length; i++) {
    expand(model.scaler(X[i]), model.basis, phi);
    let sum = 0;
    for (let k = 0; k < width; k++) sum += model.weights[k] * phi[k];
    out[i] = sum;
  }
  return out;
}

/** Maps a row to zero mean and unit variance per feature, with the training rows' statistics. */
function fitScaler(X) {
  const d = X[0].length;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const row of X) for (let j = 0; j < d; j++) mean[j] += row[j] / X.length;
  for (const row of X) for (let j = 0; j < d; j++) sd[j] += (row[j] - mean[j]) ** 2 / X.length;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  return (row) => row.map((v, j) => (v - mean[j]) / sd[j]);
}

/** Every monomial of degree 1..maxDegree, as a list of feature indices (repeats allowed). */
function listTerms(d, maxDegree) {
  const terms = [];
  const extend = (term, from) => {
    if (term.length > 0) terms.push(term);
    if (term.length === maxDegree) return;
    for (let j = from; j < d; j++) extend([...term, j], j);
  };
  extend([], 0);
  return terms;
}

/** Knots at evenly spaced quantiles of every (standardised) feature, as [feature, position]. */
function placeKnots(Z, perFeature) {
  const knots = [];
  for (let j = 0; j < Z[0].length; j++) {
    const sorted = Z.map((row) => row[j]).sort((a, b) => a - b);
    for (let q = 1; q <= perFeature; q++) knots.push([j, sorted[Math.floor((q * sorted.length) / (perFeature + 1))]]);
  }
  return knots;
}

/** The basis functions of one standardised row: intercept, monomials, hinges. */
function expand(row, basis, phi) {
  const { terms, knots } = basis;
  phi[0] = 1;
  for (let t = 0; t < terms.length; t++) {
    let product = 1;
    for (const j of terms[t]) product *= row[j];
    phi[1 + t] = product;
  }
  const offset = 1 + terms.length;
  for (let k = 0; k < knots.length; k++) {
    const [j, position] = knots[k];
    phi[offset + k] = Math.max(0, row[j] - position);
  }
}

/** Solves A x = b for a symmetric positive definite A (n x n, row-major) by Cholesky. */
function solveSymmetric(A, b, n) {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * n + j];
      for (let k = 0; k < j; k++) sum -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = i === j ? Math.sqrt(Math.max(sum, 1e-12)) : sum / L[j * n + j];
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i * n + k] * z[k];
    z[i] = sum / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < n; k++) sum -= L[k * n + i] * x[k];
    x[i] = sum / L[i * n + i];
  }
  return x;
}
