// evaluate.js: the fixed harness of optimize-snake. Hidden from the agent.
//
// Plays GAMES games of Snake on its own engine (engine.js, not the readonly game.js), with food
// sequences from seeds nobody else knows. agent.js runs in a sandboxed child process and only
// ever sees a copy of the state; the harness times every move on its own side and scores every
// game itself: 10 points per food eaten. A move that is not 'up' / 'down' / 'left' / 'right', a
// chooseMove() that throws, and a move slower than the limit all kill the snake.
//
// Writes run.log (and prints the same lines):
//   avg_score     the metric: mean score over the games
//   games, min_score, max_score, food_eaten, avg_steps, move_ms (mean time of a move, IPC included)
//   endings       how the games ended, e.g. "out of steps 24, starved 4, hit itself 2"
//   problem       the first illegal move, throw or slow move, when there was one
// agent.js that cannot be loaded, or all games together taking longer than TOTAL_LIMIT_MS:
// exit 1, no metric (crucible records a crash), and an "error:" line saying why.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RULES, SnakeGame, isMove } from './engine.js';
import { SandboxError, startSandbox } from './sandbox.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AGENT = path.join(HERE, 'agent.js');
const GAME = path.join(HERE, 'game.js');
const LOG = path.join(HERE, 'run.log');

const SECRET_SEED = 0x2f6a0d3b;
const GAMES = 30;
// All games together, agent start-up included: about 1 ms per move on average.
const TOTAL_LIMIT_MS = 60_000;
const LOAD_LIMIT_MS = 5_000;
// Math.random in the sandbox is seeded, so that even a random agent scores the same every run.
const AGENT_RANDOM_SEED = 12345;

const lines = [];
const report = (key, value) => lines.push(`${key}: ${value}`);

// A run.log left by an earlier experiment must never be read as this one's.
writeFileSync(LOG, '');
main()
  .catch((error) => {
    if (!(error instanceof SandboxError)) throw error;
    report('error', oneLine(error.message));
    process.exitCode = 1;
  })
  .finally(() => {
    // Written last and whole: whatever else wrote run.log, this is what eval reads.
    const text = `${lines.join('\n')}\n`;
    writeFileSync(LOG, text);
    process.stdout.write(text);
  });

async function main() {
  const started = performance.now();
  const deadline = started + TOTAL_LIMIT_MS;
  const start = () =>
    startSandbox({
      file: AGENT,
      name: 'chooseMove',
      allowed: [GAME],
      deadline: Math.min(deadline, performance.now() + LOAD_LIMIT_MS),
      randomSeed: AGENT_RANDOM_SEED,
    });
  let sandbox = await start();
  const scores = [];
  const endings = new Map();
  let steps = 0;
  let moves = 0;
  let moveMs = 0;
  let problem = null;
  try {
    for (let g = 0; g < GAMES; g++) {
      // A child that died or hung in the last game is replaced; the new one starts clean.
      if (!sandbox.alive) sandbox = await start();
      const game = new SnakeGame(deriveSeed(SECRET_SEED, g));
      while (!game.over) {
        if (performance.now() > deadline) throw tooSlow(g);
        const moveDeadline = Math.min(deadline, performance.now() + RULES.moveTimeLimitMs);
        let failure = null;
        try {
          const { reply, ms } = await sandbox.call(game.state(), moveDeadline);
          moves++;
          moveMs += ms;
          if (reply.kind === 'error') failure = `chooseMove threw: ${reply.message}`;
          else if (reply.kind !== 'result') failure = `illegal move: ${reply.message}`;
          else if (!isMove(reply.value)) failure = `illegal move: ${describeValue(reply.value)}`;
          else if (ms > RULES.moveTimeLimitMs) failure = `too slow: a move took ${Math.round(ms)} ms`;
          else game.advance(reply.value);
        } catch (error) {
          if (!(error instanceof SandboxError)) throw error;
          if (performance.now() > deadline) throw tooSlow(g);
          failure = sandbox.alive ? error.message : `no move: ${error.message}`;
          if (/time limit/.test(failure)) failure = `too slow: no move within ${RULES.moveTimeLimitMs} ms`;
        }
        if (failure !== null) {
          game.kill(failure.split(':')[0]);
          problem ??= `game ${g + 1}, step ${game.steps}: ${failure}`;
        }
      }
      scores.push(game.score);
      steps += game.steps;
      endings.set(game.outcome, (endings.get(game.outcome) ?? 0) + 1);
    }
  } finally {
    sandbox.kill();
  }

  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  report('avg_score', mean.toFixed(2));
  report('games', scores.length);
  report('min_score', Math.min(...scores));
  report('max_score', Math.max(...scores));
  report('food_eaten', scores.reduce((a, b) => a + b, 0) / RULES.pointsPerFood);
  report('avg_steps', (steps / scores.length).toFixed(1));
  report('move_ms', (moveMs / Math.max(1, moves)).toFixed(3));
  report('endings', [...endings].sort((a, b) => b[1] - a[1]).map(([why, n]) => `${why} ${n}`).join(', '));
  if (problem !== null) report('problem', oneLine(problem));
  report('seconds', ((performance.now() - started) / 1000).toFixed(1));
}

function tooSlow(game) {
  return new SandboxError(`too slow: the ${GAMES} games did not finish within ${TOTAL_LIMIT_MS / 1000} s (stopped in game ${game + 1})`);
}

function describeValue(value) {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  if (value === null || typeof value !== 'object') return String(value);
  return value.constructor?.name ?? 'an object';
}

function oneLine(text) {
  return text.replace(/\s+/g, ' ').trim().slice(0, 400);
}

function deriveSeed(seed, index) {
  let z = (seed + Math.imul(index + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
