// classifier.js: the classifier the agent improves. A hidden harness calls it and scores it.
//
// Contract of trainAndPredict(Xtrain, ytrain, Xval):
//   Xtrain: Array of rows, each an Array of 20 numbers; ytrain: Array of class labels 0..7, one
//   per row; Xval: Array of rows to classify, whose labels are never given.
//   Returns an Array with one row per Xval row, each an Array (or Float64Array) of 8
//   probabilities: finite, >= 0, summing to 1 (within 1e-3). The predicted class is the most
//   probable one. A malformed matrix scores 0; an exception is a crash.
// It must be synchronous and deterministic (use the seeded random() below, not Math.random).
//
// The baseline: a one-hidden-layer network (ReLU, softmax) trained by plain mini-batch SGD on the
// raw features. The offline tuner (`--agent tuner`) searches the ranges marked on the constants below.

const HIDDEN_UNITS = 16; // @tune 4..128 int log
const LEARNING_RATE = 0.01; // @tune 0.0005..0.5 log
const EPOCHS = 5; // @tune 1..40 int log
const BATCH_SIZE = 32; // @tune 4..256 int log
const WEIGHT_DECAY = 1e-3; // @tune 1e-6..1e-2 log
const SEED = 12345;

const CLASSES = 8;

export function trainAndPredict(Xtrain, ytrain, Xval) {
  const random = createRandom(SEED);
  const net = createNetwork(Xtrain[0].length, HIDDEN_UNITS, CLASSES, random);
  const order = Xtrain.map((_, i) => i);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    shuffle(order, random);
    for (let start = 0; start < order.length; start += BATCH_SIZE) {
      trainBatch(net, Xtrain, ytrain, order.slice(start, start + BATCH_SIZE));
    }
  }
  return Xval.map((row) => forward(net, row).probabilities);
}

function createNetwork(inputs, hidden, outputs, random) {
  // Small random weights scaled by fan-in; zero biases.
  const layer = (fanIn, fanOut) => ({
    w: Float64Array.from({ length: fanIn * fanOut }, () => (random() * 2 - 1) / Math.sqrt(fanIn)),
    b: new Float64Array(fanOut),
    fanIn,
    fanOut,
  });
  return { hidden: layer(inputs, hidden), output: layer(hidden, outputs) };
}

/** Activations of one row: ReLU hidden units, softmax probabilities. */
function forward(net, row) {
  const { hidden: h, output: o } = net;
  const a = new Float64Array(h.fanOut);
  for (let j = 0; j < h.fanOut; j++) {
    let z = h.b[j];
    for (let i = 0; i < h.fanIn; i++) z += row[i] * h.w[i * h.fanOut + j];
    a[j] = z > 0 ? z : 0;
  }
  const logits = new Float64Array(o.fanOut);
  for (let k = 0; k < o.fanOut; k++) {
    let z = o.b[k];
    for (let j = 0; j < o.fanIn; j++) z += a[j] * o.w[j * o.fanOut + k];
    logits[k] = z;
  }
  return { hiddenActivations: a, probabilities: softmax(logits) };
}

/** One SGD step on the mean cross-entropy of a batch, with L2 weight decay. */
function trainBatch(net, X, y, batch) {
  const { hidden: h, output: o } = net;
  const gradHw = new Float64Array(h.w.length);
  const gradHb = new Float64Array(h.b.length);
  const gradOw = new Float64Array(o.w.length);
  const gradOb = new Float64Array(o.b.length);
  const delta = new Float64Array(h.fanOut);
  for (const index of batch) {
    const row = X[index];
    const { hiddenActivations: a, probabilities: p } = forward(net, row);
    p[y[index]] -= 1; // d(cross-entropy)/d(logits) = p - onehot
    delta.fill(0);
    for (let j = 0; j < o.fanIn; j++) {
      for (let k = 0; k < o.fanOut; k++) {
        gradOw[j * o.fanOut + k] += a[j] * p[k];
        delta[j] += o.w[j * o.fanOut + k] * p[k];
      }
    }
    for (let k = 0; k < o.fanOut; k++) gradOb[k] += p[k];
    for (let j = 0; j < h.fanOut; j++) {
      if (a[j] <= 0) continue;
      for (let i = 0; i < h.fanIn; i++) gradHw[i * h.fanOut + j] += row[i] * delta[j];
      gradHb[j] += delta[j];
    }
  }
  const step = LEARNING_RATE / batch.length;
  const shrink = 1 - LEARNING_RATE * WEIGHT_DECAY;
  for (let i = 0; i < h.w.length; i++) h.w[i] = h.w[i] * shrink - step * gradHw[i];
  for (let i = 0; i < h.b.length; i++) h.b[i] -= step * gradHb[i];
  for (let i = 0; i < o.w.length; i++) o.w[i] = o.w[i] * shrink - step * gradOw[i];
  for (let i = 0; i < o.b.length; i++) o.b[i] -= step * gradOb[i];
}

function softmax(logits) {
  const max = Math.max(...logits);
  const p = logits.map((z) => Math.exp(z - max));
  const sum = p.reduce((s, v) => s + v, 0);
  return p.map((v) => v / sum);
}

function shuffle(items, random) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/** mulberry32: a seeded generator, so that every run of the same code gives the same result. */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
