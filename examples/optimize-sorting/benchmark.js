// benchmark.js: the fixed harness of optimize-sorting. Hidden from the agent.
//
// One "op" is sorting the whole benchmark suite once: four large arrays of 32-bit signed integers
// (uniform over the full range, few distinct values, nearly sorted, reversed with noise) and a
// batch of short arrays. Every repetition sorts freshly generated data from a seeded PRNG, so
// caching results inside sort.js cannot help, and every result is checked against a reference.
//
// Prints, as "key: value" lines on stdout:
//   ops_per_sec  suites sorted per second, from the median repetition (the metric)
//   median_ms    median time of one suite
//   avg_ms       mean time of one suite
//   correct      true, or false when any result was wrong (ops_per_sec is then 0)
// A sort.js that fails to load or throws makes this script exit 1 (crucible records a crash).

// Captured before sort.js is loaded, so that sort.js cannot change what checks or times it.
const nativeSort = Int32Array.prototype.sort;
const now = process.hrtime.bigint;
const print = console.log.bind(console);
const printError = console.error.bind(console);

const SEED = 20240607;
const LARGE_LENGTH = 100000;
const SMALL_ARRAYS = 800;
const SMALL_MAX_LENGTH = 250;
const WARMUP_REPS = 4;
const TIMED_REPS = 15;

main().catch((error) => {
  printError(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});

async function main() {
  let sortNumbers;
  try {
    ({ sortNumbers } = await import('./sort.js'));
  } catch (error) {
    return fail(`cannot load sort.js: ${describe(error)}`);
  }
  if (typeof sortNumbers !== 'function') return fail('sort.js does not export a function sortNumbers(arr)');

  const random = createRandom(SEED);
  const timesMs = [];
  for (let rep = 0; rep < WARMUP_REPS + TIMED_REPS; rep++) {
    const suite = createSuite(random);
    const originals = suite.map((c) => Int32Array.from(c.data));
    const results = new Array(suite.length);
    const start = now();
    for (let i = 0; i < suite.length; i++) {
      try {
        results[i] = sortNumbers(suite[i].data);
      } catch (error) {
        return fail(`sortNumbers threw on ${suite[i].label} (${suite[i].data.length} numbers): ${describe(error)}`);
      }
    }
    const elapsed = Number(now() - start) / 1e6;
    for (let i = 0; i < suite.length; i++) {
      const problem = findProblem(results[i], originals[i]);
      if (problem !== null) {
        printError(`wrong result for ${suite[i].label} (${originals[i].length} numbers): ${problem}`);
        print('ops_per_sec: 0.0');
        print('correct: false');
        return;
      }
    }
    if (rep >= WARMUP_REPS) timesMs.push(elapsed);
  }

  const sorted = [...timesMs].sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  const mean = timesMs.reduce((sum, t) => sum + t, 0) / timesMs.length;
  print(`ops_per_sec: ${(1000 / median).toFixed(1)}`);
  print(`median_ms: ${median.toFixed(2)}`);
  print(`avg_ms: ${mean.toFixed(2)}`);
  print('correct: true');
}

function fail(message) {
  printError(message);
  process.exitCode = 1;
}

function describe(error) {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

/** Why `result` is not `original` in ascending order, or null when it is. */
function findProblem(result, original) {
  if (result === null || typeof result !== 'object' || typeof result.length !== 'number') {
    return `sortNumbers returned ${result === null ? 'null' : typeof result}, not an array`;
  }
  if (result.length !== original.length) return `returned ${result.length} numbers instead of ${original.length}`;
  const expected = nativeSort.call(Int32Array.from(original));
  for (let i = 0; i < expected.length; i++) {
    if (result[i] !== expected[i]) return `index ${i} holds ${String(result[i])}, expected ${expected[i]}`;
  }
  return null;
}

/** The arrays of one repetition, each a fresh plain Array the sort may modify. */
function createSuite(random) {
  const int32 = () => (random() * 4294967296 - 2147483648) | 0;
  const suite = [
    { label: 'uniform int32', data: fill(LARGE_LENGTH, int32) },
    { label: 'few distinct values', data: fill(LARGE_LENGTH, () => Math.floor(random() * 101) - 50) },
    { label: 'nearly sorted', data: nearlySorted(LARGE_LENGTH, int32, random) },
    { label: 'reversed with noise', data: nearlySorted(LARGE_LENGTH, int32, random).reverse() },
  ];
  for (let i = 0; i < SMALL_ARRAYS; i++) {
    const length = 2 + Math.floor(random() * (SMALL_MAX_LENGTH - 1));
    suite.push({ label: `short array ${i + 1}`, data: fill(length, int32) });
  }
  return suite;
}

function fill(length, next) {
  const data = new Array(length);
  for (let i = 0; i < length; i++) data[i] = next();
  return data;
}

// Sorted, then 1% of positions swapped at random: long runs, but never handed over already sorted.
function nearlySorted(length, next, random) {
  const data = Array.from(nativeSort.call(Int32Array.from(fill(length, next))));
  for (let s = 0; s < length / 100; s++) {
    const a = Math.floor(random() * length);
    const b = Math.floor(random() * length);
    [data[a], data[b]] = [data[b], data[a]];
  }
  return data;
}

/** mulberry32: small, fast and good enough to make test data; same seed, same data. */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
