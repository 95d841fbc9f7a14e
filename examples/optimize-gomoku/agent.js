// agent.js: the code the agent improves. An AlphaZero-style player for four in a row on 7×7
// (rules in game.js): a small neural network (policy + value) trained by self-play, playing
// through the harness's Monte Carlo tree search.
//
// Contract (the hidden harness checks all of it; details in .crucible/program.md):
//   train(budgetMs, helpers) -> model (or a promise of one), within budgetMs of CPU time;
//     helpers.timeLeftMs() says how much is left. The model must be
//     { weights: Float32Array[], meta?: plain JSON }, with at least 1000 weights in all.
//   selectMove(model, board, player, helpers) -> a cell index, synchronously and
//     deterministically. It must return the `move` of its last
//     helpers.mcts(board, player, evaluate, { simulations, cPuct }) call, run on the very board
//     and player it was given with at least helpers.minSimulations simulations, and
//     evaluate(board, player) -> { priors, value } must come from the network in model.weights.
//
// The constants with a tuning marker are what the offline tuner changes; they start badly chosen.

import { CELLS, applyMove, newBoard, opponent } from './game.js';

// Network width, SGD step size, search size while training and while playing, exploration
// weight of the search, SGD steps after each self-play game, opening moves sampled from the
// visit counts (the rest play the most visited move).
const HIDDEN = 16; // @tune 8..128 int log
const LEARNING_RATE = 0.0005; // @tune 0.0001..0.3 log
const SELFPLAY_SIMULATIONS = 200; // @tune 8..800 int log
const SIMULATIONS = 32; // @tune 32..1500 int log
const C_PUCT = 5; // @tune 0.25..8 log
const TRAIN_STEPS_PER_GAME = 2; // @tune 1..64 int log
const EXPLORATION_MOVES = 2; // @tune 0..20 int
const BATCH_SIZE = 16;
const REPLAY_SIZE = 20000;
const SAFETY_MS = 400; // stop training this long before the budget runs out

const INPUTS = 2 * CELLS;

// ---- the network: INPUTS -> HIDDEN (tanh) -> policy logits (CELLS) and value (tanh) ----
// Input i < CELLS is "own stone on cell i", CELLS + i is "opponent stone on cell i", both seen
// from the player to move. Inputs are 0/1 and sparse, so the first layer adds up the weight rows
// of the stones on the board instead of multiplying a mostly-zero vector.

function createNetwork(hidden) {
  const init = (n, fanIn) => {
    const a = new Float32Array(n);
    const scale = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
    return a;
  };
  return withBuffers({
    hidden,
    w1: init(INPUTS * hidden, 16), // row per input: w1[input * hidden + j]
    b1: new Float32Array(hidden),
    wp: init(CELLS * hidden, hidden), // row per cell: wp[cell * hidden + j]
    bp: new Float32Array(CELLS),
    wv: init(hidden, hidden),
    bv: new Float32Array(1),
  });
}

/** Scratch space for forward and backward passes, reused (never part of the model). */
function withBuffers(net) {
  return {
    ...net,
    active: new Int32Array(CELLS),
    h: new Float32Array(net.hidden),
    dh: new Float32Array(net.hidden),
    logits: new Float32Array(CELLS),
    priors: new Float32Array(CELLS),
  };
}

function toModel(net) {
  return { weights: [net.w1, net.b1, net.wp, net.bp, net.wv, net.bv], meta: { hidden: net.hidden } };
}

function fromModel(model) {
  const [w1, b1, wp, bp, wv, bv] = model.weights;
  return withBuffers({ hidden: model.meta.hidden, w1, b1, wp, bp, wv, bv });
}

/** Fills net.active with the board's active inputs; returns how many there are. */
function encode(net, board, player) {
  let n = 0;
  for (let i = 0; i < CELLS; i++) {
    if (board[i] === player) net.active[n++] = i;
    else if (board[i] !== 0) net.active[n++] = CELLS + i;
  }
  return n;
}

/** Forward pass: fills net.h, net.logits and net.priors (a softmax over the empty cells); returns the value. */
function forward(net, board, player) {
  const { hidden, w1, b1, wp, bp, wv, bv, active, h, logits, priors } = net;
  const n = encode(net, board, player);
  for (let j = 0; j < hidden; j++) h[j] = b1[j];
  for (let a = 0; a < n; a++) {
    const row = active[a] * hidden;
    for (let j = 0; j < hidden; j++) h[j] += w1[row + j];
  }
  let v = bv[0];
  for (let j = 0; j < hidden; j++) {
    h[j] = Math.tanh(h[j]);
    v += wv[j] * h[j];
  }
  let max = -Infinity;
  for (let k = 0; k < CELLS; k++) {
    if (board[k] !== 0) continue;
    let s = bp[k];
    const row = k * hidden;
    for (let j = 0; j < hidden; j++) s += wp[row + j] * h[j];
    logits[k] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let k = 0; k < CELLS; k++) {
    priors[k] = board[k] === 0 ? Math.exp(logits[k] - max) : 0;
    sum += priors[k];
  }
  for (let k = 0; k < CELLS; k++) priors[k] /= sum;
  return Math.tanh(v);
}

function evaluator(net) {
  return (board, player) => {
    const value = forward(net, board, player);
    return { priors: net.priors, value };
  };
}

/** SGD on a minibatch: cross-entropy to the search's visit distribution, squared error to the result. */
function trainStep(net, batch) {
  const { hidden, w1, b1, wp, bp, wv, bv, active, h, dh, priors } = net;
  const lr = LEARNING_RATE / batch.length;
  for (const { board, player, pi, z } of batch) {
    const value = forward(net, board, player);
    dh.fill(0);
    for (let k = 0; k < CELLS; k++) {
      const g = priors[k] - pi[k];
      if (g === 0) continue;
      const row = k * hidden;
      for (let j = 0; j < hidden; j++) {
        dh[j] += g * wp[row + j];
        wp[row + j] -= lr * g * h[j];
      }
      bp[k] -= lr * g;
    }
    const gv = (value - z) * (1 - value * value);
    for (let j = 0; j < hidden; j++) {
      dh[j] += gv * wv[j];
      wv[j] -= lr * gv * h[j];
    }
    bv[0] -= lr * gv;
    const n = encode(net, board, player);
    for (let j = 0; j < hidden; j++) {
      const g = lr * dh[j] * (1 - h[j] * h[j]);
      b1[j] -= g;
      for (let a = 0; a < n; a++) w1[active[a] * hidden + j] -= g;
    }
  }
}

/** One self-play game through the harness's search; returns its training samples (or null when time ran out). */
function selfPlayGame(net, helpers) {
  const evaluate = evaluator(net);
  const board = newBoard();
  const samples = [];
  let player = 1;
  for (let ply = 0; ; ply++) {
    if (helpers.timeLeftMs() < SAFETY_MS) return null;
    const search = helpers.mcts(board, player, evaluate, { simulations: SELFPLAY_SIMULATIONS, cPuct: C_PUCT });
    let total = 0;
    for (let k = 0; k < CELLS; k++) total += search.visits[k];
    const pi = new Float32Array(CELLS);
    for (let k = 0; k < CELLS; k++) pi[k] = search.visits[k] / total;
    samples.push({ board: Int8Array.from(board), player, pi, z: 0 });
    const move = ply < EXPLORATION_MOVES ? sample(pi) : search.move;
    const result = applyMove(board, move, player);
    if (result !== 0) {
      for (const s of samples) s.z = result === 3 ? 0 : s.player === result ? 1 : -1;
      return samples;
    }
    player = opponent(player);
  }
}

function sample(pi) {
  let r = Math.random();
  for (let k = 0; k < CELLS; k++) {
    r -= pi[k];
    if (r <= 0 && pi[k] > 0) return k;
  }
  for (let k = CELLS - 1; k >= 0; k--) if (pi[k] > 0) return k;
  return 0;
}

export function train(budgetMs, helpers) {
  const net = createNetwork(HIDDEN);
  const replay = [];
  while (helpers.timeLeftMs() > SAFETY_MS) {
    const samples = selfPlayGame(net, helpers);
    if (samples === null) break;
    for (const s of samples) {
      if (replay.length < REPLAY_SIZE) replay.push(s);
      else replay[Math.floor(Math.random() * REPLAY_SIZE)] = s;
    }
    for (let step = 0; step < TRAIN_STEPS_PER_GAME && helpers.timeLeftMs() > SAFETY_MS; step++) {
      const batch = [];
      for (let b = 0; b < BATCH_SIZE; b++) batch.push(replay[Math.floor(Math.random() * replay.length)]);
      trainStep(net, batch);
    }
  }
  return toModel(net);
}

export function selectMove(model, board, player, helpers) {
  const net = fromModel(model);
  return helpers.mcts(board, player, evaluator(net), { simulations: SIMULATIONS, cPuct: C_PUCT }).move;
}
