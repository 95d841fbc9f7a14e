// game.js: the rules of optimize-snake, as a small engine you can read and play with.
// Readonly. The hidden harness does not import this file: it has its own copy of these rules
// and its own random source for placing food, and scores every game itself.
//
// The rules:
//   - The board is WIDTH × HEIGHT cells; x grows to the right, y grows downwards.
//   - The snake starts with 3 cells, head at (4, 5) and tail at (2, 5), moving 'right'.
//   - Every step the agent returns one of 'up' (y - 1), 'down' (y + 1), 'left' (x - 1),
//     'right' (x + 1). The head moves one cell that way.
//   - Food: one cell at a time, placed uniformly at random on a cell the snake does not cover.
//     Moving the head onto it eats it: the snake grows by one cell (its tail stays where it
//     was this step) and new food appears.
//   - The snake dies when its head leaves the board or moves onto its own body. The cell the
//     tail leaves in the same step is free, so following your own tail is safe (unless that
//     step eats food, when the tail does not move). Turning straight back onto the neck is
//     moving onto the body.
//   - Anything other than those four strings, a chooseMove() that throws, or one that takes
//     longer than MOVE_TIME_LIMIT_MS kills the snake too.
//   - A game ends when the snake dies, when it has gone STARVE_STEPS steps without eating
//     (starved), when it fills the whole board (won), or after MAX_STEPS steps.
//   - Score of a game: 10 points per food eaten. The metric avg_score is the mean over
//     GAMES games, each with its own food sequence.

export const WIDTH = 10;
export const HEIGHT = 10;
export const MAX_STEPS = 1000;
export const STARVE_STEPS = 200;
export const GAMES = 30;
export const POINTS_PER_FOOD = 10;
export const MOVE_TIME_LIMIT_MS = 100;

export const MOVES = ['up', 'down', 'left', 'right'];
export const DELTAS = { up: { x: 0, y: -1 }, down: { x: 0, y: 1 }, left: { x: -1, y: 0 }, right: { x: 1, y: 0 } };

/**
 * A new game. `seed` picks the food sequence here; the harness uses its own hidden seeds and
 * random source, so food positions cannot be predicted from this file.
 */
export function createGame(seed = 1) {
  const game = {
    snake: [
      { x: 4, y: 5 },
      { x: 3, y: 5 },
      { x: 2, y: 5 },
    ],
    direction: 'right',
    food: null,
    steps: 0,
    stepsSinceFood: 0,
    foodEaten: 0,
    over: false,
    outcome: null,
    random: createRandom(seed),
  };
  placeFood(game);
  return game;
}

/**
 * What chooseMove(state) receives: a fresh plain copy, never the engine's own objects.
 * { width, height, snake: [{x, y}, ...] head first, direction, food: {x, y}, steps,
 *   stepsSinceFood, foodEaten, maxSteps, starveSteps }
 */
export function stateOf(game) {
  return {
    width: WIDTH,
    height: HEIGHT,
    snake: game.snake.map((cell) => ({ x: cell.x, y: cell.y })),
    direction: game.direction,
    food: { x: game.food.x, y: game.food.y },
    steps: game.steps,
    stepsSinceFood: game.stepsSinceFood,
    foodEaten: game.foodEaten,
    maxSteps: MAX_STEPS,
    starveSteps: STARVE_STEPS,
  };
}

/** Plays one step. Returns the game; `over` and `outcome` say whether and how it ended. */
export function step(game, move) {
  if (game.over) return game;
  game.steps++;
  const delta = DELTAS[move];
  if (!MOVES.includes(move) || delta === undefined) return end(game, 'illegal move');
  const head = game.snake[0];
  const next = { x: head.x + delta.x, y: head.y + delta.y };
  if (next.x < 0 || next.y < 0 || next.x >= WIDTH || next.y >= HEIGHT) return end(game, 'hit a wall');
  const eats = next.x === game.food.x && next.y === game.food.y;
  // Without food the tail leaves its cell in this same step, so the head may move there.
  const body = eats ? game.snake : game.snake.slice(0, -1);
  if (body.some((cell) => cell.x === next.x && cell.y === next.y)) return end(game, 'hit itself');
  game.snake.unshift(next);
  game.direction = move;
  if (eats) {
    game.foodEaten++;
    game.stepsSinceFood = 0;
    if (game.snake.length === WIDTH * HEIGHT) return end(game, 'won');
    placeFood(game);
  } else {
    game.snake.pop();
    game.stepsSinceFood++;
    if (game.stepsSinceFood >= STARVE_STEPS) return end(game, 'starved');
  }
  if (game.steps >= MAX_STEPS) return end(game, 'out of steps');
  return game;
}

export function scoreOf(game) {
  return POINTS_PER_FOOD * game.foodEaten;
}

/**
 * Plays `games` games with `chooseMove` (seeds 1, 2, ...) and returns their scores and the
 * average: a quick local check. Unlike the harness it runs chooseMove in this process and does
 * not time it.
 */
export function playGames(chooseMove, games = GAMES) {
  const results = [];
  for (let g = 0; g < games; g++) {
    const game = createGame(g + 1);
    while (!game.over) {
      let move;
      try {
        move = chooseMove(stateOf(game));
      } catch {
        move = null;
      }
      step(game, move);
    }
    results.push({ score: scoreOf(game), steps: game.steps, outcome: game.outcome });
  }
  const average = results.reduce((sum, r) => sum + r.score, 0) / results.length;
  return { average, results };
}

function end(game, outcome) {
  game.over = true;
  game.outcome = outcome;
  return game;
}

function placeFood(game) {
  const taken = new Set(game.snake.map((cell) => cell.y * WIDTH + cell.x));
  const free = [];
  for (let i = 0; i < WIDTH * HEIGHT; i++) if (!taken.has(i)) free.push(i);
  const index = free[Math.floor(game.random() * free.length)];
  game.food = { x: index % WIDTH, y: Math.floor(index / WIDTH) };
}

/** mulberry32: a small seeded random source (the harness uses a different one). */
function createRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
