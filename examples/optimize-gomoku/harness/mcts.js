// harness/mcts.js: the tree search the agent must play through (helpers.mcts). It runs inside the
// agent's worker, so it only uses what it captured when it was loaded (before agent.js) and
// typed arrays: a later change to Math or to a prototype cannot change what it records.
import { CELLS, SIZE, WIN_LENGTH, EMPTY, BLACK, WHITE } from './rules.js';

const sqrt = Math.sqrt;
const isFiniteNumber = Number.isFinite;
const isInteger = Number.isInteger;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;
const Int8 = Int8Array;
const Int32 = Int32Array;
const Float32 = Float32Array;
const Float64 = Float64Array;
const ArrayCtor = Array;

export const MAX_SIMULATIONS = 200000;

// RAYS[(cell * 8 + ray) * (WIN_LENGTH - 1) + step]: the cells walked from `cell` along one of
// 8 rays (4 directions, both ways), -1 past the edge. Precomputed so the win test needs no
// arrays, iterators or Math at search time.
const STEPS = WIN_LENGTH - 1;
const RAYS = new Int16Array(CELLS * 8 * STEPS).fill(-1);
{
  const dirs = [0, 1, 1, 0, 1, 1, 1, -1, 0, -1, -1, 0, -1, -1, -1, 1];
  for (let cell = 0; cell < CELLS; cell++) {
    const row = (cell / SIZE) | 0;
    const col = cell % SIZE;
    for (let ray = 0; ray < 8; ray++) {
      for (let s = 1; s <= STEPS; s++) {
        const r = row + dirs[ray * 2] * s;
        const c = col + dirs[ray * 2 + 1] * s;
        if (r < 0 || r >= SIZE || c < 0 || c >= SIZE) break;
        RAYS[(cell * 8 + ray) * STEPS + s - 1] = r * SIZE + c;
      }
    }
  }
}

function wins(board, move, player) {
  for (let dir = 0; dir < 4; dir++) {
    let count = 1;
    for (let side = 0; side < 2; side++) {
      const base = (move * 8 + dir + side * 4) * STEPS;
      for (let s = 0; s < STEPS; s++) {
        const cell = RAYS[base + s];
        if (cell < 0 || board[cell] !== player) break;
        count++;
      }
    }
    if (count >= WIN_LENGTH) return true;
  }
  return false;
}

function copyBoard(board) {
  const copy = new Int8(CELLS);
  for (let i = 0; i < CELLS; i++) copy[i] = board[i];
  return copy;
}

// Edge states: not yet played in this tree, leads to a live position, wins for the mover, draws.
const UNKNOWN = 0;
const LIVE = 1;
const WON = 2;
const DRAWN = 3;

/** Calls the agent's evaluator on a copy of the position and checks what it returns. */
function evaluateChecked(evaluate, board, toMove) {
  const out = evaluate(copyBoard(board), toMove);
  if (out === null || typeof out !== 'object') throw new TypeErrorCtor('evaluate must return { priors, value }');
  const priors = out.priors;
  const value = out.value;
  if (priors === null || typeof priors !== 'object' || priors.length !== CELLS) {
    throw new TypeErrorCtor(`evaluate: priors must be an array of ${CELLS} numbers`);
  }
  if (typeof value !== 'number' || !isFiniteNumber(value)) throw new TypeErrorCtor('evaluate: value must be a finite number');
  return { priors, value: value > 1 ? 1 : value < -1 ? -1 : value };
}

function expand(board, toMove, evaluate) {
  const { priors, value } = evaluateChecked(evaluate, board, toMove);
  let k = 0;
  for (let i = 0; i < CELLS; i++) if (board[i] === EMPTY) k++;
  const node = {
    moves: new Int8(k),
    prior: new Float32(k),
    visits: new Int32(k),
    valueSum: new Float64(k),
    state: new Int8(k),
    children: new ArrayCtor(k),
    n: 0,
  };
  let sum = 0;
  for (let i = 0, j = 0; i < CELLS; i++) {
    if (board[i] !== EMPTY) continue;
    const p = priors[i];
    if (typeof p !== 'number' || !isFiniteNumber(p) || p < 0) {
      throw new TypeErrorCtor('evaluate: priors must be finite and non-negative');
    }
    node.moves[j] = i;
    node.prior[j] = p;
    node.children[j] = null;
    sum += p;
    j++;
  }
  for (let j = 0; j < k; j++) node.prior[j] = sum > 0 ? node.prior[j] / sum : 1 / k;
  return { node, value };
}

function readOptions(options) {
  const simulations = options?.simulations;
  const cPuct = options?.cPuct ?? 1.5;
  if (!isInteger(simulations) || simulations < 1 || simulations > MAX_SIMULATIONS) {
    throw new RangeErrorCtor(`mcts: options.simulations must be a whole number from 1 to ${MAX_SIMULATIONS}`);
  }
  if (typeof cPuct !== 'number' || !isFiniteNumber(cPuct) || cPuct <= 0) {
    throw new RangeErrorCtor('mcts: options.cPuct must be a positive number');
  }
  return { simulations, cPuct };
}

/**
 * helpers.mcts: PUCT Monte Carlo tree search (AlphaZero style, no rollouts). `evaluate(board,
 * player)` gives { priors: CELLS non-negative numbers (illegal cells are ignored, the rest are
 * normalised), value: in [-1, 1], the expected result for `player`, who is to move }. Wins and
 * draws inside the tree are scored by the rules, without calling evaluate. Returns { move: the
 * most visited move, visits: Int32Array(CELLS), value: the root's mean value for `player`,
 * simulations }. `onSearch` (the harness's) is told about every finished search.
 */
export function createMcts(onSearch) {
  return function mcts(board, player, evaluate, options) {
    if (typeof evaluate !== 'function') throw new TypeErrorCtor('mcts: evaluate must be a function');
    if (player !== BLACK && player !== WHITE) throw new TypeErrorCtor('mcts: player must be 1 or 2');
    if (board === null || typeof board !== 'object' || board.length !== CELLS) {
      throw new TypeErrorCtor(`mcts: board must hold ${CELLS} cells`);
    }
    const { simulations, cPuct } = readOptions(options);
    const root = copyBoard(board);
    const scratch = copyBoard(board);
    let stones = 0;
    for (let i = 0; i < CELLS; i++) {
      const v = scratch[i];
      if (v !== EMPTY && v !== BLACK && v !== WHITE) throw new TypeErrorCtor('mcts: board cells must be 0, 1 or 2');
      if (v !== EMPTY) stones++;
    }
    if (stones === CELLS) throw new RangeErrorCtor('mcts: the board is full');
    const rootNode = expand(scratch, player, evaluate).node;
    const pathNodes = new ArrayCtor(CELLS + 1);
    const pathEdges = new Int32(CELLS + 1);

    for (let sim = 0; sim < simulations; sim++) {
      let node = rootNode;
      let toMove = player;
      let depth = 0;
      let leaf; // the result of the last edge, for the player who made it
      for (;;) {
        const k = node.moves.length;
        const scale = cPuct * sqrt(node.n > 0 ? node.n : 1);
        let best = 0;
        let bestScore = -Infinity;
        for (let j = 0; j < k; j++) {
          const v = node.visits[j];
          const score = (v > 0 ? node.valueSum[j] / v : 0) + (scale * node.prior[j]) / (1 + v);
          if (score > bestScore) {
            bestScore = score;
            best = j;
          }
        }
        const move = node.moves[best];
        scratch[move] = toMove;
        pathNodes[depth] = node;
        pathEdges[depth] = best;
        depth++;
        let state = node.state[best];
        if (state === UNKNOWN) {
          state = wins(scratch, move, toMove) ? WON : stones + depth === CELLS ? DRAWN : LIVE;
          node.state[best] = state;
        }
        if (state === WON) {
          leaf = 1;
          break;
        }
        if (state === DRAWN) {
          leaf = 0;
          break;
        }
        const next = 3 - toMove;
        const child = node.children[best];
        if (child === null) {
          const expanded = expand(scratch, next, evaluate);
          node.children[best] = expanded.node;
          leaf = -expanded.value;
          break;
        }
        node = child;
        toMove = next;
      }
      for (let d = depth - 1; d >= 0; d--) {
        const n = pathNodes[d];
        const e = pathEdges[d];
        n.visits[e]++;
        n.valueSum[e] += leaf;
        n.n++;
        scratch[n.moves[e]] = EMPTY;
        leaf = -leaf;
      }
    }

    const visits = new Int32(CELLS);
    let best = 0;
    let total = 0;
    let valueSum = 0;
    for (let j = 0; j < rootNode.moves.length; j++) {
      const v = rootNode.visits[j];
      visits[rootNode.moves[j]] = v;
      total += v;
      valueSum += rootNode.valueSum[j];
      const bv = rootNode.visits[best];
      if (v > bv || (v === bv && rootNode.prior[j] > rootNode.prior[best])) best = j;
    }
    const result = { move: rootNode.moves[best], visits, value: total > 0 ? valueSum / total : 0, simulations };
    onSearch(root, player, result.move, simulations);
    return result;
  };
}
