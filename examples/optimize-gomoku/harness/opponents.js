// harness/opponents.js: the harness's seeded random number generator and its two opponents.
import { CELLS, SIZE, WIN_LENGTH, EMPTY } from './rules.js';

/** A small seeded generator (mulberry32): the same seed gives the same games. */
export function createRng(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes several numbers into one 32-bit seed. */
export function mixSeed(...parts) {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995) >>> 0;
  }
  return h >>> 0;
}

export function randomMove(board, rng) {
  const empty = [];
  for (let i = 0; i < CELLS; i++) if (board[i] === EMPTY) empty.push(i);
  return empty[Math.floor(rng() * empty.length)];
}

// Every line of WIN_LENGTH cells, and for each cell the lines through it.
const WINDOWS = [];
for (const [dr, dc] of [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, -1],
]) {
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const cells = [];
      for (let s = 0; s < WIN_LENGTH; s++) {
        const rr = r + dr * s;
        const cc = c + dc * s;
        if (rr < 0 || rr >= SIZE || cc < 0 || cc >= SIZE) break;
        cells.push(rr * SIZE + cc);
      }
      if (cells.length === WIN_LENGTH) WINDOWS.push(cells);
    }
  }
}
const WINDOWS_OF = Array.from({ length: CELLS }, () => []);
for (const window of WINDOWS) for (const cell of window) WINDOWS_OF[cell].push(window);

// Weights by how many stones of one colour (and none of the other) a line already holds.
// Completing our own four beats everything, then blocking the opponent's four, then building.
const ATTACK = [1, 6, 60, 1_000_000];
const DEFENCE = [1, 5, 45, 100_000];

/**
 * A one-ply heuristic player: every empty cell scores the lines through it (its own lines it
 * extends, the opponent's lines it blocks); the best cell is played, ties broken at random.
 * With probability `noise` it plays a random move instead (a blunder an agent can punish).
 */
export function greedyMove(board, player, rng, noise = 0) {
  if (noise > 0 && rng() < noise) return randomMove(board, rng);
  let best = -1;
  let bestScore = -1;
  let ties = 0;
  for (let cell = 0; cell < CELLS; cell++) {
    if (board[cell] !== EMPTY) continue;
    let score = 0;
    for (const window of WINDOWS_OF[cell]) {
      let own = 0;
      let other = 0;
      for (const c of window) {
        if (board[c] === player) own++;
        else if (board[c] !== EMPTY) other++;
      }
      if (other === 0) score += ATTACK[own];
      if (own === 0) score += DEFENCE[other];
    }
    if (score > bestScore) {
      bestScore = score;
      best = cell;
      ties = 1;
    } else if (score === bestScore) {
      // Reservoir sampling: each tied cell is equally likely.
      ties++;
      if (rng() * ties < 1) best = cell;
    }
  }
  return best;
}

/** The largest number of one colour's stones in a line with none of the other's (threat size). */
export function largestThreat(board) {
  let largest = 0;
  for (const window of WINDOWS) {
    let black = 0;
    let white = 0;
    for (const c of window) {
      if (board[c] === 1) black++;
      else if (board[c] === 2) white++;
    }
    if (white === 0 && black > largest) largest = black;
    if (black === 0 && white > largest) largest = white;
  }
  return largest;
}
