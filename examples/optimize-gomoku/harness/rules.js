// harness/rules.js: the harness's own copy of the rules in game.js (which the agent can read).
// The harness never imports the agent's copy, so nothing the agent does to game.js changes a game.
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
