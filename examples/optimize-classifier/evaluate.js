// evaluate.js: the fixed harness of optimize-classifier. Hidden from the agent.
//
// Generates an 8-class synthetic data set from a seed that only this file knows, hands the
// training rows and labels plus the validation rows (without labels) to classifier.js in a
// sandboxed child process, checks the probability matrix it returns, and computes the accuracy
// itself. classifier.js never sees a validation label, cannot read this file (the child may read
// only classifier.js and package.json), cannot write files, and whatever it prints is captured
// here, never passed on as it is.
//
// Writes run.log (and prints the same lines):
//   val_accuracy          share of validation rows whose most probable class is right (the metric)
//   val_log_loss          mean negative log probability of the right class (clipped at 1e-15)
//   class_<k>_accuracy    accuracy on the validation rows of class k, for k = 0..7
//   train_seconds         wall time of the sandboxed process: start, data transfer, trainAndPredict
//   valid                 true, or false when the matrix was malformed (val_accuracy is then 0)
// A malformed matrix (wrong shape, a value that is not a finite number >= 0, a row that does not
// sum to 1 within 1e-3) scores val_accuracy 0. A classifier.js that throws, exits, or runs past
// TIME_LIMIT_SECONDS ends with exit code 1 and no metric: a crash.

import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DATA_SEED = 0x2f61c0d7; // never shown to the agent: the data cannot be regenerated elsewhere
const TRAIN_ROWS = 16000;
const VAL_ROWS = 5000;
const FEATURES = 20;
const CLASSES = 8;
const TIME_LIMIT_SECONDS = 60;
const SUM_TOLERANCE = 1e-3;
const OUTPUT_TAIL_CHARS = 4000;

const here = path.dirname(fileURLToPath(import.meta.url));
const runLog = path.join(here, 'run.log');

async function main() {
  const data = generateData(DATA_SEED);
  const started = performance.now();
  const reply = await runClassifier({ Xtrain: data.Xtrain, ytrain: data.ytrain, Xval: data.Xval }, TIME_LIMIT_SECONDS * 1000);
  const seconds = (performance.now() - started) / 1000;
  if (!reply.ok) return fail(reply.message, reply.output);

  const problem = findProblem(reply.value);
  if (problem !== null) {
    console.error(`invalid probability matrix: ${problem}`);
    const lines = ['val_accuracy: 0.000000', `train_seconds: ${seconds.toFixed(2)}`, 'valid: false', `reason: ${oneLine(problem)}`];
    return finish(lines, 0, reply.output);
  }

  const probabilities = reply.value;
  const hits = new Array(CLASSES).fill(0);
  const counts = new Array(CLASSES).fill(0);
  let logLoss = 0;
  for (let i = 0; i < VAL_ROWS; i++) {
    const label = data.yval[i];
    counts[label]++;
    if (argmax(probabilities[i]) === label) hits[label]++;
    logLoss -= Math.log(Math.max(probabilities[i][label], 1e-15));
  }
  const correct = hits.reduce((s, h) => s + h, 0);
  finish([
    `val_accuracy: ${(correct / VAL_ROWS).toFixed(6)}`,
    `val_log_loss: ${(logLoss / VAL_ROWS).toFixed(6)}`,
    ...hits.map((h, k) => `class_${k}_accuracy: ${(h / Math.max(counts[k], 1)).toFixed(4)}`),
    `train_seconds: ${seconds.toFixed(2)}`,
    'valid: true',
  ]);
}

/** Ends the trial as a crash: the whole message on stderr, its first line in run.log. */
function fail(message, childOutput = '') {
  console.error(message);
  finish([`error: ${oneLine(message)}`], 1, childOutput);
}

/** Writes run.log in one go, replacing anything there, and prints the same lines. */
function finish(lines, exitCode = 0, childOutput = '') {
  if (childOutput.trim() !== '') {
    // Shown for diagnosis, every line prefixed, so nothing classifier.js prints can pass for a metric.
    const quoted = childOutput.trimEnd().split('\n').map((line) => `classifier.js| ${line}`);
    console.error(['output of classifier.js (last lines):', ...quoted].join('\n'));
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(runLog, text);
  process.stdout.write(text);
  process.exitCode = exitCode;
}

// Text that may come from classifier.js (an error message, a value it returned) enters run.log as one
// short line, so that it can never put a line of its own, such as a fake metric, there.
function oneLine(text) {
  const first = String(text).split('\n')[0] ?? '';
  return first.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, 300);
}

/** Why `matrix` is not VAL_ROWS rows of CLASSES probabilities, or null when it is. */
function findProblem(matrix) {
  if (!Array.isArray(matrix)) return 'trainAndPredict must return an array with one row of probabilities per validation row';
  if (matrix.length !== VAL_ROWS) return `${matrix.length} rows for ${VAL_ROWS} validation rows`;
  for (let i = 0; i < VAL_ROWS; i++) {
    const row = matrix[i];
    if (!Array.isArray(row)) return `row ${i} is not an array of ${CLASSES} numbers`;
    if (row.length !== CLASSES) return `row ${i} has ${row.length} values, not ${CLASSES}`;
    let sum = 0;
    for (let k = 0; k < CLASSES; k++) {
      const p = row[k];
      if (typeof p !== 'number' || !Number.isFinite(p) || p < 0) return `row ${i}, class ${k}: ${String(p)} is not a finite number >= 0`;
      sum += p;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) return `row ${i} sums to ${sum}, not 1`;
  }
  return null;
}

// Ties go to the lowest class, so a row of equal probabilities is not a free guess at the best one.
function argmax(row) {
  let best = 0;
  for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
  return best;
}

// ---------------------------------------------------------------------------------------------
// The data. A latent point, uniform in the unit disc, gets its class from two rings (inner and
// outer, equal areas) times four sectors that twist with the radius: 8 spiral-shaped classes. The
// point is observed with noise (so the best possible accuracy stays below 100%), mixed by a random
// rotation into 20 dimensions together with 18 dimensions of pure noise of the same spread, and
// every column gets its own scale and offset. Everything random comes from the hidden seed.

const RING_SPLIT = Math.SQRT1_2;
const TWIST = 2.5; // radians of sector rotation from the centre to the rim
const LATENT_NOISE_SD = 0.03;
const NUISANCE_SD = 0.5;

function generateData(seed) {
  const random = createRandom(seed);
  const mixing = randomRotation(FEATURES, random);
  const scales = Array.from({ length: FEATURES }, () => Math.exp((random() - 0.5) * 3));
  const offsets = Array.from({ length: FEATURES }, () => (random() - 0.5) * 4);
  const makeRows = (count) => {
    const X = [];
    const y = [];
    for (let i = 0; i < count; i++) {
      const r = Math.sqrt(random());
      const theta = 2 * Math.PI * random();
      const ring = r < RING_SPLIT ? 0 : 1;
      const turned = (((theta + TWIST * r) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      const sector = Math.min(3, Math.floor(turned / (Math.PI / 2)));
      const latent = [r * Math.cos(theta) + LATENT_NOISE_SD * gaussian(random), r * Math.sin(theta) + LATENT_NOISE_SD * gaussian(random)];
      for (let k = 2; k < FEATURES; k++) latent.push(NUISANCE_SD * gaussian(random));
      X.push(mixing.map((rowOfQ, j) => offsets[j] + scales[j] * rowOfQ.reduce((s, q, k) => s + q * latent[k], 0)));
      y.push(ring * 4 + sector);
    }
    return { X, y };
  };
  const train = makeRows(TRAIN_ROWS);
  const val = makeRows(VAL_ROWS);
  return { Xtrain: train.X, ytrain: train.y, Xval: val.X, yval: val.y };
}

/** A random orthogonal matrix (Gram-Schmidt on Gaussian rows). */
function randomRotation(n, random) {
  const rows = [];
  while (rows.length < n) {
    const v = Array.from({ length: n }, () => gaussian(random));
    for (const q of rows) {
      const dot = q.reduce((s, x, k) => s + x * v[k], 0);
      for (let k = 0; k < n; k++) v[k] -= dot * q[k];
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) rows.push(v.map((x) => x / norm));
  }
  return rows;
}

function gaussian(random) {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** mulberry32: small, fast, and the same numbers for the same seed on every machine. */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// The sandbox. classifier.js runs in a child Node process under the permission model: it may read
// classifier.js and package.json and nothing else, write nothing, start no processes or workers,
// and sees no environment variables. Its stdout and stderr come back here, bounded, and reach the
// log only prefixed.

const CHILD_SOURCE = `
delete globalThis.WebAssembly;
const { pathToFileURL } = await import('node:url');
// Without the harness there is nobody to answer: stop rather than linger.
process.on('disconnect', () => process.exit(1));
process.once('message', async ({ modulePath, Xtrain, ytrain, Xval }) => {
  let step = 'loading classifier.js';
  try {
    const classifier = await import(pathToFileURL(modulePath).href);
    if (typeof classifier.trainAndPredict !== 'function') {
      throw new Error('classifier.js must export the function trainAndPredict(Xtrain, ytrain, Xval)');
    }
    step = 'trainAndPredict(Xtrain, ytrain, Xval)';
    const result = await classifier.trainAndPredict(Xtrain, ytrain, Xval);
    process.send({ ok: true, value: plainRows(result) });
  } catch (error) {
    const text = error && error.stack ? String(error.stack) : String(error);
    const code = error && typeof error.code === 'string' ? ' (' + error.code + ')' : '';
    const [first, ...rest] = text.split('\\n');
    process.send({ ok: false, message: [step + ' failed: ' + first + code, ...rest].join('\\n') });
  }
});
// Array-likes become plain arrays (numbers kept, anything else as text, for the harness to reject
// by name); anything else becomes null.
function plain(v, inner) {
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') return null;
  return Array.from(v, inner);
}
function plainRows(v) {
  return plain(v, (row) => plain(row, (x) => (typeof x === 'number' ? x : String(x))));
}
`;

function runClassifier(payload, limitMs) {
  const modulePath = path.join(here, 'classifier.js');
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
  const args = [
    permission,
    `--allow-fs-read=${modulePath}`,
    `--allow-fs-read=${path.join(here, 'package.json')}`,
    '--max-old-space-size=2048',
    '--no-warnings',
    '--input-type=module',
    '--eval',
    CHILD_SOURCE,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: here, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', env: {} });
    let output = '';
    const keep = (chunk) => {
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let settled = false;
    const settle = (reply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      // Let the last output arrive before it is shown.
      setTimeout(() => resolve({ ...reply, output }), 50);
    };
    const timer = setTimeout(() => settle({ ok: false, message: `classifier.js took longer than ${limitMs / 1000} s` }), limitMs);
    child.once('message', (message) => {
      if (message !== null && typeof message === 'object' && message.ok === true) settle({ ok: true, value: message.value });
      else settle({ ok: false, message: String(message?.message ?? 'classifier.js sent a malformed reply') });
    });
    child.once('error', (error) => settle({ ok: false, message: `cannot start node for classifier.js: ${error.message}` }));
    child.once('exit', (code, signal) =>
      settle({ ok: false, message: `classifier.js ended the process (${signal ?? `exit code ${code}`}) before returning probabilities` }),
    );
    child.send({ modulePath, ...payload });
  });
}

function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// Started last, once every constant above exists. A run.log left by an earlier trial must never
// be read as this trial's result.
rmSync(runLog, { force: true });
main().catch((error) => fail(`harness failed: ${describe(error)}`));
