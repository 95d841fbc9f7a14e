// agent.js: the code the agent improves. A hidden harness plays Snake games with it and scores
// them itself; game.js holds the rules (readonly).
//
// Contract of chooseMove(state):
//   - state is a fresh plain object: { width, height, snake: [{x, y}, ...] head first,
//     direction, food: {x, y}, steps, stepsSinceFood, foodEaten, maxSteps, starveSteps }.
//   - Return 'up', 'down', 'left' or 'right'. Anything else, a throw, or taking more than
//     100 ms kills the snake.
//   - Synchronous. The file may import from './game.js' and nothing else.
//
// The baseline scores each of the four moves with a weighted sum of a few features and takes the
// best. Its weights are marked for the offline tuner, and they start badly: it chases the food
// and ignores everything else, so it often turns into its own body.

const FOOD_WEIGHT = 1; // @tune 0..10
const DANGER_PENALTY = 0; // @tune 0..1000
const SPACE_WEIGHT = 0; // @tune 0..100
const TAIL_WEIGHT = 0; // @tune 0..100
const LOOKAHEAD = 0; // @tune 0..3 int

const MOVES = ['up', 'down', 'left', 'right'];
const DELTAS = { up: [0, -1], down: [0, 1], left: [-1, 0], right: [1, 0] };

export function chooseMove(state) {
  let best = MOVES[0];
  let bestValue = -Infinity;
  for (const move of MOVES) {
    const value = valueOf(state, move, LOOKAHEAD);
    if (value > bestValue) {
      bestValue = value;
      best = move;
    }
  }
  return best;
}

/**
 * How good `move` looks: the features of the position after it or, looking `depth` moves
 * further, of the best position reachable in that many moves (a line stops when it eats or dies).
 */
function valueOf(state, move, depth) {
  const [dx, dy] = DELTAS[move];
  const head = state.snake[0];
  const next = { x: head.x + dx, y: head.y + dy };
  const eats = next.x === state.food.x && next.y === state.food.y;
  const distance = Math.abs(next.x - state.food.x) + Math.abs(next.y - state.food.y);
  if (isDeadly(state, next, eats)) return -FOOD_WEIGHT * distance - DANGER_PENALTY;

  const after = { ...state, snake: [next, ...(eats ? state.snake : state.snake.slice(0, -1))] };
  if (depth > 0 && !eats) {
    let best = -Infinity;
    for (const nextMove of MOVES) best = Math.max(best, valueOf(after, nextMove, depth - 1));
    return best;
  }
  let value = -FOOD_WEIGHT * distance;
  if (SPACE_WEIGHT !== 0 || TAIL_WEIGHT !== 0) {
    const { reachable, tailReachable } = floodFill(after);
    // The share of the free cells the head can still reach: 1 when nothing is cut off.
    value += (SPACE_WEIGHT * reachable) / (state.width * state.height - after.snake.length);
    if (tailReachable) value += TAIL_WEIGHT;
  }
  return value;
}

function isDeadly(state, cell, eats) {
  if (cell.x < 0 || cell.y < 0 || cell.x >= state.width || cell.y >= state.height) return true;
  const body = eats ? state.snake : state.snake.slice(0, -1);
  return body.some((part) => part.x === cell.x && part.y === cell.y);
}

/** Cells the head can reach from where it is, and whether one of them touches the tail. */
function floodFill(state) {
  const { width, height, snake } = state;
  const blocked = new Uint8Array(width * height);
  for (const part of snake) blocked[part.y * width + part.x] = 1;
  const tail = snake[snake.length - 1];
  const head = snake[0];
  const queue = [head.y * width + head.x];
  const seen = new Uint8Array(width * height);
  seen[queue[0]] = 1;
  let reachable = 0;
  let tailReachable = false;
  while (queue.length > 0) {
    const cell = queue.pop();
    const x = cell % width;
    const y = (cell - x) / width;
    for (const [dx, dy] of Object.values(DELTAS)) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      if (nx === tail.x && ny === tail.y) tailReachable = true;
      const index = ny * width + nx;
      if (blocked[index] || seen[index]) continue;
      seen[index] = 1;
      reachable++;
      queue.push(index);
    }
  }
  return { reachable, tailReachable };
}
