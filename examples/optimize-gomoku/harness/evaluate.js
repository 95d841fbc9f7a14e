// harness/evaluate.js: the hidden harness of optimize-gomoku. It trains the agent within a fixed
// time budget, checks that the agent plays through a network and the harness's tree search,
// then plays seeded games against its own opponents and computes win_rate itself.
// Agent code only ever runs in worker threads (harness/worker.js); this process never imports it.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BLACK, WHITE, DRAW, newBoard, isLegal, applyMove } from './rules.js';
import { createRng, mixSeed, randomMove, greedyMove, largestThreat } from './opponents.js';
import { Session, Crash } from './session.js';

const agentPath = fileURLToPath(new URL('../agent.js', import.meta.url));
const runLog = fileURLToPath(new URL('../run.log', import.meta.url));

// Kept here, out of the agent's sight: every game and probe position follows from it.
const SEED = 0x2c1b_9e37;
// GOMOKU_TRAIN_MS and GOMOKU_GAMES shorten a run for the example's own tests only.
const TRAIN_MS = boundedEnv('GOMOKU_TRAIN_MS', 20_000, 200, 600_000);
const GAME_SCALE = boundedEnv('GOMOKU_GAMES', 120, 2, 1200) / 120;
const GAMES = { random: Math.max(1, Math.round(20 * GAME_SCALE)), greedy: Math.max(2, Math.round(100 * GAME_SCALE)) };
const WEIGHTS = { random: 0.3, greedy: 0.7 };
const GREEDY_NOISE = 0.25; // the greedy opponent plays one move in four at random
// Time limits are CPU time of the agent's thread (wall time where /proc is missing).
const GRACE_MS = 2000; // train() is stopped this long after its budget: a crash
const MOVE_LIMIT_MS = 250; // one move; slower loses the game
const GAME_CLOCK_MS = 1000; // all of one game's moves, loading agent.js included
const WALL_FACTOR = 6; // wall-clock backstop for a hung or starved worker, times the CPU limit
const MIN_SIMULATIONS = 32; // per move, in the search whose move is played
const MIN_PARAMS = 1000;
const MAX_PARAMS = 4_000_000;
const MAX_META_CHARS = 4096;
const PROBES = 16;
const MIN_CHANGED_BY_ABLATION = 6; // of PROBES positions

function boundedEnv(name, fallback, low, high) {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && process.env[name] !== '' ? Math.min(high, Math.max(low, Math.round(value))) : fallback;
}

/** An architecture rule was broken: the run scores 0 (a recorded result, not a crash). */
class Violation extends Error {}

async function trainModel(stats) {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const session = new Session({ role: 'train', agentPath, seed: mixSeed(SEED, 1), budgetMs: TRAIN_MS, minSimulations: MIN_SIMULATIONS });
  try {
    await session.start(10_000);
    const stop = session.limitCpu(TRAIN_MS + GRACE_MS, `train() ran past its budget of ${TRAIN_MS / 1000}s of CPU time (+${GRACE_MS / 1000}s grace)`);
    try {
      const reply = await session.expect('model', (TRAIN_MS + GRACE_MS) * WALL_FACTOR, `train() (budget ${TRAIN_MS / 1000}s)`);
      return reply.msg.model;
    } finally {
      stop();
      stats.trainCpu = session.cpuMs() / 1000;
      const used = process.cpuUsage(cpuStart);
      stats.trainProcessCpu = (used.user + used.system) / 1e6;
      stats.trainWall = (performance.now() - wallStart) / 1000;
    }
  } finally {
    await session.close();
  }
}

/** The trained model reduced to what the rules allow: { weights: Float32Array[], meta }. */
function checkModel(model) {
  if (model === null || typeof model !== 'object') throw new Violation('train() must return a model object { weights, meta }');
  const extra = Object.keys(model).filter((key) => key !== 'weights' && key !== 'meta');
  if (extra.length > 0) throw new Violation(`the model may only hold "weights" and "meta", not ${extra.map((k) => `"${k}"`).join(', ')}`);
  const { weights } = model;
  if (!Array.isArray(weights) || weights.length === 0 || weights.length > 64) throw new Violation('model.weights must be an array of 1 to 64 Float32Arrays');
  let params = 0;
  for (const array of weights) {
    if (!(array instanceof Float32Array)) throw new Violation('every entry of model.weights must be a Float32Array');
    for (let i = 0; i < array.length; i++) if (!Number.isFinite(array[i])) throw new Violation('model.weights hold NaN or Infinity');
    params += array.length;
  }
  if (params < MIN_PARAMS) throw new Violation(`the network has ${params} weights; at least ${MIN_PARAMS} are required`);
  if (params > MAX_PARAMS) throw new Violation(`the network has ${params} weights; at most ${MAX_PARAMS} are allowed`);
  let meta = null;
  if (model.meta !== undefined) {
    const text = JSON.stringify(model.meta);
    if (text === undefined || text.length > MAX_META_CHARS) throw new Violation(`model.meta must be plain JSON of at most ${MAX_META_CHARS} characters`);
    meta = JSON.parse(text);
  }
  return { model: { weights: weights.map((a) => Float32Array.from(a)), meta }, params };
}

/** The same model with every weight array shuffled: same shapes, same values, no knowledge. */
function shuffledModel(model, rng) {
  const weights = model.weights.map((array) => {
    const copy = Float32Array.from(array);
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  });
  return { weights, meta: model.meta };
}

async function openPlayer(model, seed) {
  const session = new Session({ role: 'play', agentPath, seed, minSimulations: MIN_SIMULATIONS, moveLimitMs: MOVE_LIMIT_MS });
  await session.start(10_000);
  const wall = GAME_CLOCK_MS * WALL_FACTOR;
  await session.expect('loaded', wall, 'loading agent.js');
  await session.expect('ready', wall, 'receiving the model', { type: 'init', model });
  return session;
}

/**
 * Asks for one move. Returns { move, cpuMs } or { timedOut } (past the wall-clock backstop);
 * breaking the search rules is a Violation.
 */
async function askMove(session, board, player, limitMs, stats) {
  const before = session.cpuMs();
  const reply = await session.next(Math.max(limitMs, 50) * WALL_FACTOR, { type: 'move', board, player });
  if (reply.timedOut) return { timedOut: true };
  if (reply.ended !== undefined) throw new Crash(`${reply.ended} during selectMove()${session.outputNote()}`);
  const cpuMs = session.cpuMs() - before;
  const { msg } = reply;
  if (msg.type === 'error') throw new Crash(msg.message);
  const { search } = msg;
  if (search === null) throw new Violation('selectMove() did not call helpers.mcts');
  if (!search.samePosition) throw new Violation('the last helpers.mcts search of selectMove() was not run on the position (and player) it was given');
  if (search.simulations < MIN_SIMULATIONS) throw new Violation(`the search ran ${search.simulations} simulations; at least ${MIN_SIMULATIONS} per move are required`);
  if (msg.move !== null && msg.move !== search.move) throw new Violation(`selectMove() returned ${msg.move}, not the move its last helpers.mcts search chose (${search.move})`);
  stats.moves++;
  stats.moveCpu += cpuMs;
  stats.simulations += search.simulations;
  return { move: msg.move, cpuMs };
}

/** Quiet positions (no three-in-a-line yet) from the harness's seed, for the ablation check. */
function probePositions() {
  const rng = createRng(mixSeed(SEED, 2));
  const positions = [];
  while (positions.length < PROBES) {
    const board = newBoard();
    const stones = 2 + Math.floor(rng() * 7);
    for (let s = 0; s < stones; s++) board[randomMove(board, rng)] = s % 2 === 0 ? BLACK : WHITE;
    if (largestThreat(board) <= 2) positions.push({ board, player: stones % 2 === 0 ? BLACK : WHITE });
  }
  return positions;
}

async function probeMoves(model, seed, passes, stats) {
  const limit = MOVE_LIMIT_MS;
  const session = await openPlayer(model, seed);
  try {
    const runs = [];
    for (let pass = 0; pass < passes; pass++) {
      const moves = [];
      for (const { board, player } of probePositions()) {
        const reply = await askMove(session, board, player, limit, stats);
        if (reply.timedOut || reply.cpuMs > limit) throw new Crash(`selectMove() took more than ${limit} ms on a probe position`);
        if (!isLegal(board, reply.move)) throw new Violation(`selectMove() returned an illegal move (${String(reply.move)}) on a probe position`);
        moves.push(reply.move);
      }
      runs.push(moves);
    }
    return runs;
  } finally {
    await session.close();
  }
}

/** The network must matter: shuffling its weights has to change the moves it chooses. */
async function checkArchitecture(model, stats) {
  const [first, second] = await probeMoves(model, mixSeed(SEED, 3), 2, stats);
  if (first.some((move, i) => move !== second[i])) throw new Violation('selectMove() is not deterministic: the same model and position gave different moves');
  const [ablated] = await probeMoves(shuffledModel(model, createRng(mixSeed(SEED, 4))), mixSeed(SEED, 3), 1, stats);
  const changed = ablated.filter((move, i) => move !== first[i]).length;
  stats.ablation = `${changed}/${PROBES}`;
  if (changed < MIN_CHANGED_BY_ABLATION) {
    throw new Violation(`shuffling the network's weights changed only ${changed} of ${PROBES} probe moves (at least ${MIN_CHANGED_BY_ABLATION} required): the moves must come from the network`);
  }
}

/** One game; returns 'win', 'draw' or 'loss' for the agent. */
async function playGame(model, kind, index, agentColour, stats) {
  const rng = createRng(mixSeed(SEED, 5, index));
  const session = await openPlayer(model, mixSeed(SEED, 6, index));
  try {
    const board = newBoard();
    let player = BLACK;
    for (;;) {
      let move;
      if (player === agentColour) {
        const clockLeft = GAME_CLOCK_MS - session.cpuMs();
        const reply = await askMove(session, board, player, Math.min(MOVE_LIMIT_MS, clockLeft), stats);
        if (reply.timedOut || reply.cpuMs > MOVE_LIMIT_MS || session.cpuMs() > GAME_CLOCK_MS) {
          stats.lostOnTime++;
          return 'loss';
        }
        if (!isLegal(board, reply.move)) {
          stats.illegal++;
          return 'loss';
        }
        move = reply.move;
      } else {
        move = kind === 'random' ? randomMove(board, rng) : greedyMove(board, player, rng, GREEDY_NOISE);
      }
      const result = applyMove(board, move, player);
      if (result === DRAW) return 'draw';
      if (result !== 0) return result === agentColour ? 'win' : 'loss';
      player = 3 - player;
    }
  } finally {
    await session.close();
  }
}

async function playMatch(model, stats) {
  const tally = {};
  let index = 0;
  for (const kind of ['random', 'greedy']) {
    tally[kind] = { win: 0, draw: 0, loss: 0, [BLACK]: [0, 0, 0], [WHITE]: [0, 0, 0] };
    for (let g = 0; g < GAMES[kind]; g++) {
      const colour = g % 2 === 0 ? BLACK : WHITE;
      const result = await playGame(model, kind, index++, colour, stats);
      tally[kind][result]++;
      tally[kind][colour][['win', 'draw', 'loss'].indexOf(result)]++;
    }
  }
  const score = (kind) => (100 * (tally[kind].win + 0.5 * tally[kind].draw)) / GAMES[kind];
  return { tally, scoreRandom: score('random'), scoreGreedy: score('greedy') };
}

function report(lines, exitCode) {
  const text = lines.map(([key, value]) => `${key}: ${value}`).join('\n') + '\n';
  // Written last and whole, replacing anything agent code may have put there.
  writeFileSync(runLog, text);
  process.stdout.write(text);
  process.exit(exitCode);
}

async function main() {
  const began = performance.now();
  const stats = { trainCpu: 0, trainWall: 0, trainProcessCpu: 0, moves: 0, moveCpu: 0, simulations: 0, illegal: 0, lostOnTime: 0, ablation: 'n/a', params: 0 };
  const diagnostics = () => [
    ['network_params', stats.params],
    ['ablation_changed_moves', stats.ablation],
    ['mean_simulations', stats.moves ? Math.round(stats.simulations / stats.moves) : 0],
    ['mean_move_cpu_ms', stats.moves ? (stats.moveCpu / stats.moves).toFixed(1) : '0.0'],
    ['train_cpu_seconds', stats.trainCpu.toFixed(1)],
    ['train_process_cpu_seconds', stats.trainProcessCpu.toFixed(1)],
    ['train_wall_seconds', stats.trainWall.toFixed(1)],
    ['total_seconds', ((performance.now() - began) / 1000).toFixed(1)],
  ];
  try {
    const checked = checkModel(await trainModel(stats));
    stats.params = checked.params;
    await checkArchitecture(checked.model, stats);
    const match = await playMatch(checked.model, stats);
    const all = ['win', 'draw', 'loss'].map((r) => match.tally.random[r] + match.tally.greedy[r]);
    const winRate = WEIGHTS.random * match.scoreRandom + WEIGHTS.greedy * match.scoreGreedy;
    report(
      [
        ['win_rate', winRate.toFixed(2)],
        ['score_vs_random', match.scoreRandom.toFixed(1)],
        ['score_vs_greedy', match.scoreGreedy.toFixed(1)],
        ['games', GAMES.random + GAMES.greedy],
        ['wins_draws_losses', all.join('/')],
        ['greedy_as_black_wdl', match.tally.greedy[BLACK].join('/')],
        ['greedy_as_white_wdl', match.tally.greedy[WHITE].join('/')],
        ['lost_on_time', stats.lostOnTime],
        ['illegal_moves', stats.illegal],
        ['architecture', 'ok'],
        ...diagnostics(),
      ],
      0,
    );
  } catch (error) {
    if (error instanceof Violation) {
      process.stderr.write(`architecture violation: ${error.message}\n`);
      report([['win_rate', '0.00'], ['architecture', 'violated'], ['violation', error.message], ...diagnostics()], 0);
    }
    const message = error instanceof Crash ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`gomoku harness: ${message}\n`);
    report([['error', message.split('\n')[0]], ...diagnostics()], 1);
  }
}

await main();
