// sort.js: the code the agent improves. The hidden benchmark loads it in a worker thread and
// times it.
//
// Contract of sortNumbers(arr):
//   - arr is an Int32Array (negatives, duplicates and long sorted runs all occur), from a couple
//     of elements up to 100 000. It is a view into a larger buffer shared with the other arrays
//     of the round: touch only arr[0] .. arr[arr.length - 1], never arr.buffer directly.
//   - It returns the same numbers in ascending order. Sorting arr in place and returning arr is
//     the cheapest; another Int32Array of the same length is copied back (a memcpy); any other
//     array-like (a plain Array, another typed array) is converted, which costs more. The caller
//     keeps every returned array until the end of a round: do not hand out one buffer for
//     several calls.
//   - It must be synchronous, deterministic and correct for every input: one wrong result makes
//     the whole benchmark score 0.
//
// The three constants below carry tuning markers: the offline tuner (`--agent tuner`) searches
// their ranges.

const INSERTION_CUTOFF = 1; // @tune 1..256 int log
const RADIX_MIN_LENGTH = 10000000; // @tune 16..10000000 int log
const RADIX_BITS = 4; // @tune 4..16 int

export function sortNumbers(arr) {
  if (arr.length >= RADIX_MIN_LENGTH) return radixSort(arr);
  return mergeSort(arr);
}

// Top-down merge sort; ranges of at most INSERTION_CUTOFF elements are insertion-sorted.
function mergeSort(arr) {
  const buffer = new Int32Array(arr.length);
  sortRange(arr, buffer, 0, arr.length);
  return arr;
}

function sortRange(arr, buffer, lo, hi) {
  if (hi - lo <= INSERTION_CUTOFF) {
    insertionSort(arr, lo, hi);
    return;
  }
  const mid = (lo + hi) >>> 1;
  sortRange(arr, buffer, lo, mid);
  sortRange(arr, buffer, mid, hi);
  merge(arr, buffer, lo, mid, hi);
}

function insertionSort(arr, lo, hi) {
  for (let i = lo + 1; i < hi; i++) {
    const value = arr[i];
    let j = i - 1;
    while (j >= lo && arr[j] > value) {
      arr[j + 1] = arr[j];
      j--;
    }
    arr[j + 1] = value;
  }
}

function merge(arr, buffer, lo, mid, hi) {
  for (let k = lo; k < hi; k++) buffer[k] = arr[k];
  let i = lo;
  let j = mid;
  for (let k = lo; k < hi; k++) {
    if (i < mid && (j >= hi || buffer[i] <= buffer[j])) arr[k] = buffer[i++];
    else arr[k] = buffer[j++];
  }
}

// LSD radix sort on 32-bit keys, RADIX_BITS bits per pass. Flipping the sign bit maps signed
// order onto unsigned order, so negative numbers need no special pass.
function radixSort(arr) {
  const n = arr.length;
  const mask = (1 << RADIX_BITS) - 1;
  let keys = new Uint32Array(n);
  let spare = new Uint32Array(n);
  for (let i = 0; i < n; i++) keys[i] = (arr[i] ^ 0x80000000) >>> 0;
  const counts = new Uint32Array(mask + 1);
  for (let shift = 0; shift < 32; shift += RADIX_BITS) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & mask]++;
    let total = 0;
    for (let d = 0; d <= mask; d++) {
      const count = counts[d];
      counts[d] = total;
      total += count;
    }
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      spare[counts[(key >>> shift) & mask]++] = key;
    }
    [keys, spare] = [spare, keys];
  }
  for (let i = 0; i < n; i++) arr[i] = (keys[i] ^ 0x80000000) | 0;
  return arr;
}
