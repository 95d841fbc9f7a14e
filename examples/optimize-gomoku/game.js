// game.js: the rules of the game (readonly). agent.js may import it; the hidden harness plays
// with its own copy of exactly these rules.
//
// Four in a row on a 7×7 board ("gomoku" with k = 4). Black (1) moves first, then White (2),
// one stone per turn on any empty cell. A player who makes a line of four or more of their own
// stones (horizontal, vertical or diagonal) wins at once; a full board without such a line is a
// draw. There are no other rules: no swap, no forbidden moves.
//
// A board is an Int8Array of CELLS values (EMPTY, BLACK or WHITE), indexed row-major:
// cell = row * SIZE + col.

export const SIZE = 7;
export const CELLS = SIZE * SIZE;
export const WIN_LENGTH = 4;

export const EMPTY = 0;
export const BLACK = 1;
export const WHITE = 2;
/** What applyMove returns when the board is full and nobody has won. */
export const DRAW = 3;

const DIRECTIONS = [
  [0, 1],
  [1, 0],
  [1, 1],
  [1, -1],
];

export function newBoard() {
  return new Int8Array(CELLS);
}

export function opponent(player) {
  return 3 - player;
}

/** The player to move on a board reached by legal play from the empty board. */
export function playerToMove(board) {
  let stones = 0;
  for (let i = 0; i < CELLS; i++) if (board[i] !== EMPTY) stones++;
  return stones % 2 === 0 ? BLACK : WHITE;
}

export function isLegal(board, move) {
  return Number.isInteger(move) && move >= 0 && move < CELLS && board[move] === EMPTY;
}

export function legalMoves(board) {
  const moves = [];
  for (let i = 0; i < CELLS; i++) if (board[i] === EMPTY) moves.push(i);
  return moves;
}

export function isFull(board) {
  for (let i = 0; i < CELLS; i++) if (board[i] === EMPTY) return false;
  return true;
}

/** True when a stone of `player` on `move` makes a line of WIN_LENGTH (whatever is on `move` now). */
export function isWinningMove(board, move, player) {
  const row = Math.floor(move / SIZE);
  const col = move % SIZE;
  for (const [dr, dc] of DIRECTIONS) {
    let count = 1;
    for (let s = 1; s < WIN_LENGTH; s++) {
      const r = row + dr * s;
      const c = col + dc * s;
      if (r < 0 || r >= SIZE || c < 0 || c >= SIZE || board[r * SIZE + c] !== player) break;
      count++;
    }
    for (let s = 1; s < WIN_LENGTH; s++) {
      const r = row - dr * s;
      const c = col - dc * s;
      if (r < 0 || r >= SIZE || c < 0 || c >= SIZE || board[r * SIZE + c] !== player) break;
      count++;
    }
    if (count >= WIN_LENGTH) return true;
  }
  return false;
}

/**
 * Puts a stone of `player` on `move` (in place; the move must be legal) and returns the result:
 * `player` when the move wins, DRAW when it fills the board, 0 when the game goes on.
 */
export function applyMove(board, move, player) {
  board[move] = player;
  if (isWinningMove(board, move, player)) return player;
  return isFull(board) ? DRAW : 0;
}
