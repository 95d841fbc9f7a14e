// benchmark.js: the fixed harness of optimize-sorting. Hidden from the agent.
//
// One "op" is sorting the whole benchmark suite once: four large Int32Arrays (uniform over the
// full 32-bit range, few distinct values, nearly sorted, reversed with noise) and a batch of short
// ones. Every round sorts freshly generated data from a seed drawn anew for every run, so nothing
// in sort.js can know or cache the data, and every result is checked here against a reference.
//
// Isolation: sort.js runs in a worker thread started from this same file. Its stdout and stderr
// are captured and never forwarded, it cannot reach this thread's clock or globals, and its only
// way back is a private message port. One message carries a whole round (every array of it in one
// transferred buffer, not copied) and one message brings every result back; the round trip is
// timed on this side and costs about 0.2 ms, so the time measured is the sorting itself.
//
// Writes run.log at the very end (replacing whatever else wrote there) and prints the same
// "key: value" lines:
//   ops_per_sec  suites sorted per second, from the median round (the metric)
//   median_ms    median time of one suite
//   avg_ms       mean time of one suite
//   correct      true, or false when any result was wrong (ops_per_sec is then 0)
// A sort.js that fails to load, throws or ends its worker makes this script exit 1 (a crash).

import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { MessageChannel, Worker, isMainThread, parentPort } from 'node:worker_threads';

// Checking and timing happen on the main thread, whose globals sort.js never reaches. The worker
// runs this file too: what it needs to pack results is captured before sort.js is loaded there,
// and whatever sort.js breaks in its own thread can only make its results wrong, never right.
const nativeSort = Int32Array.prototype.sort;
const now = process.hrtime.bigint;
const int32From = Int32Array.from.bind(Int32Array);
const isInt32Array = (value) => value instanceof Int32Array;

const LARGE_LENGTH = 100000;
const SMALL_ARRAYS = 800;
const SMALL_MAX_LENGTH = 250;
const WARMUP_ROUNDS = 4;
const TIMED_ROUNDS = 15;
const CAPTURED_OUTPUT_CHARS = 2000;

if (isMainThread) {
  main().catch((error) => finish({ error: `benchmark failed: ${describe(error)}` }));
} else {
  parentPort.once('message', ({ port }) => serveSorts(port));
}

// ---- worker side: load sort.js, sort each round, hand the results back ----

async function serveSorts(port) {
  let sortNumbers;
  try {
    ({ sortNumbers } = await import('./sort.js'));
  } catch (error) {
    port.postMessage({ type: 'failed', message: `cannot load sort.js: ${describe(error)}` });
    return;
  }
  if (typeof sortNumbers !== 'function') {
    port.postMessage({ type: 'failed', message: 'sort.js does not export a function sortNumbers(arr)' });
    return;
  }
  port.on('message', ({ data, offsets }) => {
    const count = offsets.length - 1;
    const inputs = new Array(count);
    const results = new Array(count);
    for (let i = 0; i < count; i++) {
      inputs[i] = data.subarray(offsets[i], offsets[i + 1]);
      try {
        results[i] = sortNumbers(inputs[i]);
      } catch (error) {
        port.postMessage({ type: 'failed', message: `sortNumbers threw on array ${i + 1} (${inputs[i].length} numbers): ${describe(error)}` });
        return;
      }
    }
    // Packed only after the whole round, so a buffer reused across calls reads back as wrong.
    const others = packResults(data, offsets, inputs, results);
    port.postMessage({ type: 'sorted', data, others }, [data.buffer, ...others.map((o) => o.values.buffer)]);
  });
  port.postMessage({ type: 'ready' });
}

// A result sorted in place costs nothing here; another Int32Array of the right length is copied
// into its slot of the round's buffer (a memcpy, on the worker's clock). Anything else travels
// on its own as a copy that keeps non-integers as they are, so that the check still sees them.
function packResults(data, offsets, inputs, results) {
  const others = [];
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    if (result === inputs[i]) continue;
    if (result === null || typeof result !== 'object' || typeof result.length !== 'number') {
      others.push({ index: i, invalid: `sortNumbers returned ${result === null ? 'null' : typeof result}, not an array`, values: new Int32Array(0) });
    } else if (isInt32Array(result) && result.length === inputs[i].length) {
      data.set(result, offsets[i]);
    } else if (isInt32Array(result)) {
      others.push({ index: i, values: int32From(result) });
    } else {
      others.push(copyNumbers(result, i));
    }
  }
  return others;
}

// Non-integers survive the copy (the check then rejects them); what is not a number at all is
// reported here rather than converted into one.
function copyNumbers(result, index) {
  const values = new Float64Array(result.length);
  for (let k = 0; k < values.length; k++) {
    const value = result[k];
    if (typeof value !== 'number') return { index, invalid: `sortNumbers returned an array holding a ${typeof value} at index ${k}`, values: new Int32Array(0) };
    values[k] = value;
  }
  return { index, values };
}

// ---- main side: data, timing, checking, run.log ----

async function main() {
  const worker = new Worker(new URL(import.meta.url), { stdout: true, stderr: true });
  const captured = captureOutput(worker);
  const { port1: port, port2 } = new MessageChannel();
  worker.postMessage({ port: port2 }, [port2]);
  let outcome;
  try {
    outcome = await measure(port, createReplyQueue(port, worker));
  } finally {
    // Stopped before run.log is written, so that nothing in sort.js can write after the harness.
    port.close();
    await worker.terminate();
  }
  if (outcome.error !== undefined) outcome.captured = captured.text();
  finish(outcome);
}

/** Every round sent, timed and checked: lines for run.log, or why there are none. */
async function measure(port, replies) {
  const hello = await replies.next();
  if (hello.type !== 'ready') return { error: hello.message };
  const random = createRandom(randomInt(1, 2 ** 31));
  const timesMs = [];
  for (let round = 0; round < WARMUP_ROUNDS + TIMED_ROUNDS; round++) {
    const { labels, data, offsets } = createRound(random);
    const originals = data.slice();
    const start = now();
    port.postMessage({ data, offsets }, [data.buffer]);
    const reply = await replies.next();
    const elapsedMs = Number(now() - start) / 1e6;
    if (reply.type !== 'sorted') return { error: reply.message };
    const problem = checkRound(reply, offsets, originals, labels);
    if (problem !== null) return { wrong: problem };
    if (round >= WARMUP_ROUNDS) timesMs.push(elapsedMs);
  }
  const sorted = [...timesMs].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const mean = timesMs.reduce((sum, t) => sum + t, 0) / timesMs.length;
  return { lines: [`ops_per_sec: ${(1000 / median).toFixed(1)}`, `median_ms: ${median.toFixed(2)}`, `avg_ms: ${mean.toFixed(2)}`, 'correct: true'] };
}

/**
 * The last words of the run: run.log (written here, last, replacing anything sort.js wrote) and
 * the same lines on stdout. An error also goes to stderr and sets exit code 1.
 */
function finish({ lines, wrong, error, captured }) {
  let out = lines;
  if (wrong !== undefined) {
    console.error(wrong);
    out = ['ops_per_sec: 0.0', 'correct: false'];
  }
  if (error !== undefined) {
    const printed = captured ? `\nsort.js printed:\n${captured}` : '';
    console.error(`${error}${printed}`);
    out = [`error: ${error.split('\n')[0]}`];
    process.exitCode = 1;
  }
  const text = `${out.join('\n')}\n`;
  writeFileSync('run.log', text);
  process.stdout.write(text);
}

/** Replies from the worker in order; a worker that dies or exits answers with a failure. */
function createReplyQueue(port, worker) {
  const waiting = [];
  const queued = [];
  const deliver = (reply) => {
    const resolve = waiting.shift();
    if (resolve) resolve(reply);
    else queued.push(reply);
  };
  port.on('message', deliver);
  worker.on('error', (error) => deliver({ type: 'failed', message: `sort.js crashed its worker: ${describe(error)}` }));
  worker.on('exit', (code) => deliver({ type: 'failed', message: `sort.js ended its worker (exit code ${code})` }));
  return {
    next: () => (queued.length > 0 ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve))),
  };
}

/** Keeps the tail of what the worker printed, for crash messages only; nothing is forwarded. */
function captureOutput(worker) {
  let tail = '';
  const keep = (chunk) => {
    tail = (tail + chunk.toString()).slice(-CAPTURED_OUTPUT_CHARS);
  };
  worker.stdout.on('data', keep);
  worker.stderr.on('data', keep);
  return { text: () => tail.trim() };
}

function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Why a round's results are not its arrays in ascending order, or null when they are. */
function checkRound(reply, offsets, originals, labels) {
  const others = new Map(reply.others.map((o) => [o.index, o]));
  for (let i = 0; i < labels.length; i++) {
    const original = originals.subarray(offsets[i], offsets[i + 1]);
    const other = others.get(i);
    const result = other === undefined ? reply.data.subarray(offsets[i], offsets[i + 1]) : other.values;
    const problem = other?.invalid ?? findProblem(result, original);
    if (problem !== null) return `wrong result for ${labels[i]} (${original.length} numbers): ${problem}`;
  }
  return null;
}

/** Why `result` is not `original` in ascending order, or null when it is. */
function findProblem(result, original) {
  if (result.length !== original.length) return `returned ${result.length} numbers instead of ${original.length}`;
  const expected = nativeSort.call(original);
  for (let i = 0; i < expected.length; i++) {
    if (result[i] !== expected[i]) return `index ${i} holds ${String(result[i])}, expected ${expected[i]}`;
  }
  return null;
}

/**
 * The arrays of one round, back to back in one Int32Array (one buffer travels to the worker, not
 * hundreds), with offsets[i]..offsets[i + 1] marking array i.
 */
function createRound(random) {
  const int32 = () => (random() * 4294967296 - 2147483648) | 0;
  const parts = [
    { label: 'uniform int32', data: fill(LARGE_LENGTH, int32) },
    { label: 'few distinct values', data: fill(LARGE_LENGTH, () => Math.floor(random() * 101) - 50) },
    { label: 'nearly sorted', data: nearlySorted(LARGE_LENGTH, int32, random) },
    { label: 'reversed with noise', data: nearlySorted(LARGE_LENGTH, int32, random).reverse() },
  ];
  for (let i = 0; i < SMALL_ARRAYS; i++) {
    const length = 2 + Math.floor(random() * (SMALL_MAX_LENGTH - 1));
    parts.push({ label: `short array ${i + 1}`, data: fill(length, int32) });
  }
  const offsets = new Int32Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i] + parts[i].data.length;
  const data = new Int32Array(offsets[parts.length]);
  parts.forEach((part, i) => data.set(part.data, offsets[i]));
  return { labels: parts.map((p) => p.label), data, offsets };
}

function fill(length, next) {
  const data = new Int32Array(length);
  for (let i = 0; i < length; i++) data[i] = next();
  return data;
}

// Sorted, then 1% of positions swapped at random: long runs, but never handed over already sorted.
function nearlySorted(length, next, random) {
  const data = nativeSort.call(fill(length, next));
  for (let s = 0; s < length / 100; s++) {
    const a = Math.floor(random() * length);
    const b = Math.floor(random() * length);
    const t = data[a];
    data[a] = data[b];
    data[b] = t;
  }
  return data;
}

/** mulberry32: small, fast and good enough to make test data. */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
