// engine.js: the harness's own copy of the Snake rules. Hidden.
//
// The same rules as the readonly game.js, written separately so the score never depends on
// code the agent can read or influence, with food placed from a different, hidden random source.

export const RULES = Object.freeze({
  width: 10,
  height: 10,
  maxSteps: 1000,
  starveSteps: 200,
  pointsPerFood: 10,
  moveTimeLimitMs: 100,
});

const DELTA = new Map([
  ['up', [0, -1]],
  ['down', [0, 1]],
  ['left', [-1, 0]],
  ['right', [1, 0]],
]);

export class SnakeGame {
  constructor(seed) {
    this.random = createRandom(seed);
    // Cells as y * width + x, head first; `occupied` mirrors them for quick lookups.
    this.body = [5 * RULES.width + 4, 5 * RULES.width + 3, 5 * RULES.width + 2];
    this.occupied = new Uint8Array(RULES.width * RULES.height);
    for (const cell of this.body) this.occupied[cell] = 1;
    this.direction = 'right';
    this.steps = 0;
    this.stepsSinceFood = 0;
    this.foodEaten = 0;
    this.outcome = null;
    this.food = -1;
    this.placeFood();
  }

  get over() {
    return this.outcome !== null;
  }

  get score() {
    return RULES.pointsPerFood * this.foodEaten;
  }

  /** A fresh plain copy for the agent: nothing of the engine itself. */
  state() {
    const cell = (index) => ({ x: index % RULES.width, y: Math.floor(index / RULES.width) });
    return {
      width: RULES.width,
      height: RULES.height,
      snake: this.body.map(cell),
      direction: this.direction,
      food: cell(this.food),
      steps: this.steps,
      stepsSinceFood: this.stepsSinceFood,
      foodEaten: this.foodEaten,
      maxSteps: RULES.maxSteps,
      starveSteps: RULES.starveSteps,
    };
  }

  /** Ends the game without a move: the agent failed to give one (`why`). */
  kill(why) {
    this.steps++;
    this.outcome = why;
  }

  /** One step; `move` has been checked to be one of the four moves. */
  advance(move) {
    this.steps++;
    const [dx, dy] = DELTA.get(move);
    const head = this.body[0];
    const x = (head % RULES.width) + dx;
    const y = Math.floor(head / RULES.width) + dy;
    if (x < 0 || y < 0 || x >= RULES.width || y >= RULES.height) return void (this.outcome = 'hit a wall');
    const next = y * RULES.width + x;
    const eats = next === this.food;
    const tail = this.body[this.body.length - 1];
    // The tail leaves its cell in the same step unless the snake grows.
    if (this.occupied[next] === 1 && (eats || next !== tail)) return void (this.outcome = 'hit itself');
    if (!eats) {
      this.body.pop();
      this.occupied[tail] = 0;
    }
    this.body.unshift(next);
    this.occupied[next] = 1;
    this.direction = move;
    if (eats) {
      this.foodEaten++;
      this.stepsSinceFood = 0;
      if (this.body.length === RULES.width * RULES.height) return void (this.outcome = 'won');
      this.placeFood();
    } else if (++this.stepsSinceFood >= RULES.starveSteps) return void (this.outcome = 'starved');
    if (this.steps >= RULES.maxSteps) this.outcome = 'out of steps';
  }

  placeFood() {
    const free = [];
    for (let i = 0; i < this.occupied.length; i++) if (this.occupied[i] === 0) free.push(i);
    this.food = free[Math.floor(this.random() * free.length)];
  }
}

export function isMove(value) {
  return typeof value === 'string' && DELTA.has(value);
}

/** sfc32 seeded through splitmix32. */
function createRandom(seed) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}
