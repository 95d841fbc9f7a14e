// evaluate.js: the fixed harness of optimize-regression. Hidden from the agent.
//
// Generates a synthetic regression data set from a seed that only this file knows, hands the
// training rows to model.js in a sandboxed child process, gets predictions for the training and
// the validation rows back, checks them, and computes the metrics itself. model.js never sees a
// validation target, cannot read this file (the child may read only model.js and package.json),
// cannot write files, and whatever it prints is captured here, never passed on as it is.
//
// Writes run.log (and prints the same lines):
//   val_mse        mean squared error on the validation rows (the metric, lower is better)
//   val_r2         1 - val_mse / variance of the validation targets
//   train_mse      mean squared error on the training rows
//   train_seconds  wall time of the sandboxed process: start, train() and both predict() calls
// Predictions of the wrong length, or holding anything but finite numbers, a model.js that
// throws, and one that runs past TIME_LIMIT_SECONDS end with exit code 1 and no metric: a crash.

import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DATA_SEED = 0x7c3a91e5; // never shown to the agent: the data cannot be regenerated elsewhere
const TRAIN_ROWS = 8000;
const VAL_ROWS = 2000;
const FEATURES = 10;
const NOISE_SD = 1;
const TIME_LIMIT_SECONDS = 45;
const OUTPUT_TAIL_CHARS = 4000;

const here = path.dirname(fileURLToPath(import.meta.url));
const runLog = path.join(here, 'run.log');

async function main() {
  const data = generateData(DATA_SEED);
  const started = performance.now();
  const reply = await runModel(
    { Xtrain: data.Xtrain, ytrain: data.ytrain, Xval: data.Xval },
    TIME_LIMIT_SECONDS * 1000,
  );
  const seconds = (performance.now() - started) / 1000;
  if (!reply.ok) return fail(reply.message, reply.output);

  const trainPred = checkPredictions(reply.value?.trainPred, TRAIN_ROWS, 'predict(model, Xtrain)');
  const valPred = checkPredictions(reply.value?.valPred, VAL_ROWS, 'predict(model, Xval)');
  const problem = typeof trainPred === 'string' ? trainPred : typeof valPred === 'string' ? valPred : null;
  if (problem !== null) return fail(problem, reply.output);

  const valMse = meanSquaredError(valPred, data.yval);
  finish([
    `val_mse: ${valMse.toFixed(6)}`,
    `val_r2: ${(1 - valMse / variance(data.yval)).toFixed(6)}`,
    `train_mse: ${meanSquaredError(trainPred, data.ytrain).toFixed(6)}`,
    `train_seconds: ${seconds.toFixed(2)}`,
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
    // Shown for diagnosis, every line prefixed, so nothing model.js prints can pass for a metric.
    const quoted = childOutput.trimEnd().split('\n').map((line) => `model.js| ${line}`);
    console.error(['output of model.js (last lines):', ...quoted].join('\n'));
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(runLog, text);
  process.stdout.write(text);
  process.exitCode = exitCode;
}

// Text that may come from model.js (an error message, a value it returned) enters run.log as one
// short line, so that it can never put a line of its own, such as a fake metric, there.
function oneLine(text) {
  const first = String(text).split('\n')[0] ?? '';
  return first.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').slice(0, 300);
}

function checkPredictions(values, rows, call) {
  if (!Array.isArray(values)) return `${call} must return an array (or typed array) of numbers`;
  if (values.length !== rows) return `${call} returned ${values.length} predictions for ${rows} rows`;
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return `${call}: prediction ${i} is ${String(v)}, not a finite number`;
  }
  return values;
}

function meanSquaredError(predictions, targets) {
  let sum = 0;
  for (let i = 0; i < targets.length; i++) sum += (predictions[i] - targets[i]) ** 2;
  return sum / targets.length;
}

function variance(values) {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
}

// ---------------------------------------------------------------------------------------------
// The data. Ten latent variables, uniform on [0, 1], drive the target through smooth and
// non-smooth terms and interactions; two of them do nothing. The seed also shuffles which column
// holds which variable and gives every column its own scale and offset.

function generateData(seed) {
  const random = createRandom(seed);
  const order = shuffle([...Array(FEATURES).keys()], random);
  const scales = order.map(() => Math.exp((random() - 0.5) * 4));
  const offsets = order.map(() => (random() - 0.5) * 10);
  const makeRows = (count) => {
    const X = [];
    const y = [];
    for (let i = 0; i < count; i++) {
      const u = Array.from({ length: FEATURES }, () => random());
      X.push(order.map((k, j) => offsets[j] + scales[j] * u[k]));
      y.push(target(u) + NOISE_SD * gaussian(random));
    }
    return { X, y };
  };
  const train = makeRows(TRAIN_ROWS);
  const val = makeRows(VAL_ROWS);
  return { Xtrain: train.X, ytrain: train.y, Xval: val.X, yval: val.y };
}

function target(u) {
  return (
    10 * Math.sin(Math.PI * u[0] * u[1]) +
    20 * (u[2] - 0.5) ** 2 +
    10 * u[3] +
    5 * u[4] +
    6 * u[5] * u[6] +
    3 * (u[7] > 0.6 ? 1 : 0) +
    4 * Math.exp(-8 * (u[5] - u[7]) ** 2)
  );
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
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
// The sandbox. model.js runs in a child Node process under the permission model: it may read
// model.js and package.json and nothing else, write nothing, start no processes or workers, and
// sees no environment variables.
// Its stdout and stderr come back here, bounded, and only reach the log prefixed (see finish).

const CHILD_SOURCE = `
delete globalThis.WebAssembly;
const { pathToFileURL } = await import('node:url');
// Without the harness there is nobody to answer: stop rather than linger.
process.on('disconnect', () => process.exit(1));
process.once('message', async ({ modelPath, Xtrain, ytrain, Xval }) => {
  let step = 'loading model.js';
  try {
    const model = await import(pathToFileURL(modelPath).href);
    if (typeof model.train !== 'function' || typeof model.predict !== 'function') {
      throw new Error('model.js must export the functions train(X, y) and predict(model, X)');
    }
    const XtrainForPredict = structuredClone(Xtrain);
    step = 'train(Xtrain, ytrain)';
    const fitted = await model.train(Xtrain, ytrain);
    step = 'predict(model, Xtrain)';
    const trainPred = plain(await model.predict(fitted, XtrainForPredict));
    step = 'predict(model, Xval)';
    const valPred = plain(await model.predict(fitted, Xval));
    process.send({ ok: true, value: { trainPred, valPred } });
  } catch (error) {
    const text = error && error.stack ? String(error.stack) : String(error);
    const code = error && typeof error.code === 'string' ? ' (' + error.code + ')' : '';
    const [first, ...rest] = text.split('\\n');
    process.send({ ok: false, message: [step + ' failed: ' + first + code, ...rest].join('\\n') });
  }
});
// An array-like becomes a plain array of its elements (numbers kept, anything else as text, for
// the harness to reject by name); anything else becomes null.
function plain(v) {
  if (v === null || typeof v !== 'object' || typeof v.length !== 'number') return null;
  return Array.from(v, (x) => (typeof x === 'number' ? x : String(x)));
}
`;

function runModel(payload, limitMs) {
  const modelPath = path.join(here, 'model.js');
  const permission = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
  const args = [
    permission,
    `--allow-fs-read=${modelPath}`,
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
    const timer = setTimeout(
      () => settle({ ok: false, message: `model.js took longer than ${limitMs / 1000} s (train plus both predict calls)` }),
      limitMs,
    );
    child.once('message', (message) => {
      if (message !== null && typeof message === 'object' && message.ok === true) settle({ ok: true, value: message.value });
      else settle({ ok: false, message: String(message?.message ?? 'model.js sent a malformed reply') });
    });
    child.once('error', (error) => settle({ ok: false, message: `cannot start node for model.js: ${error.message}` }));
    child.once('exit', (code, signal) =>
      settle({ ok: false, message: `model.js ended the process (${signal ?? `exit code ${code}`}) before returning predictions` }),
    );
    child.send({ modelPath, ...payload });
  });
}

function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// Started last, once every constant above exists. A run.log left by an earlier trial must never
// be read as this trial's result.
rmSync(runLog, { force: true });
main().catch((error) => fail(`harness failed: ${describe(error)}`));
