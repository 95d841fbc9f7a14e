// harness/worker.js: the worker_threads side of the harness. It imports agent.js and runs
// train() or selectMove() for the parent, which never runs agent code itself. Everything the
// parent trusts travels over a private MessagePort that arrives before agent.js is loaded and
// lives only in this module's closure; the parent ignores the worker's parentPort after that,
// so agent code cannot post replies in the harness's name.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import * as rules from './rules.js';
import { createMcts, MAX_SIMULATIONS } from './mcts.js';
import { createRng } from './opponents.js';
import { currentThreadId, ownCpuMs } from './cpu-clock.js';

const { role, agentPath, seed, budgetMs, minSimulations, moveLimitMs } = workerData;
const Int8 = Int8Array;
const stringOf = String;

// Reproducible randomness for the agent (the amount of training still depends on the machine).
Math.random = createRng(seed);

// What the last helpers.mcts call searched, kept where agent code cannot reach it.
let lastSearch = null;
const mcts = createMcts((root, player, move, simulations) => {
  lastSearch = { root, player, move, simulations };
});

function errorText(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return stringOf(error);
}

function sameBoard(a, b) {
  for (let i = 0; i < rules.CELLS; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function loadAgent(send) {
  try {
    return await import(pathToFileURL(agentPath).href);
  } catch (error) {
    send({ type: 'error', message: `cannot load agent.js: ${errorText(error)}` });
    return null;
  }
}

async function runTraining(send, cpuAt) {
  const agent = await loadAgent(send);
  if (agent === null) return;
  if (typeof agent.train !== 'function') {
    send({ type: 'error', message: 'agent.js does not export a function train(budgetMs, helpers)' });
    return;
  }
  // The budget is CPU time of this thread, counted from before agent.js was loaded.
  const helpers = Object.freeze({
    budgetMs,
    usedMs: () => cpuAt(),
    timeLeftMs: () => budgetMs - cpuAt(),
    mcts,
    game: rules,
    minSimulations,
    maxSimulations: MAX_SIMULATIONS,
  });
  let model;
  try {
    model = await agent.train(budgetMs, helpers);
  } catch (error) {
    send({ type: 'error', message: `train() threw ${errorText(error)}` });
    return;
  }
  try {
    send({ type: 'model', model });
  } catch (error) {
    send({ type: 'error', message: `the model train() returned cannot be copied to another worker (functions, class instances and the like are not serialisable): ${errorText(error)}` });
  }
}

async function runPlay(port, send) {
  const agent = await loadAgent(send);
  if (agent === null) return;
  if (typeof agent.selectMove !== 'function') {
    send({ type: 'error', message: 'agent.js does not export a function selectMove(model, board, player, helpers)' });
    return;
  }
  const helpers = Object.freeze({ mcts, game: rules, minSimulations, maxSimulations: MAX_SIMULATIONS, moveLimitMs });
  let model = null;
  port.on('message', (msg) => {
    if (msg.type === 'init') {
      model = msg.model;
      send({ type: 'ready' });
      return;
    }
    // msg.type === 'move': the board is the harness's; the agent gets its own copy.
    const truth = new Int8(msg.board);
    lastSearch = null;
    let move;
    try {
      move = agent.selectMove(model, new Int8(truth), msg.player, helpers);
    } catch (error) {
      send({ type: 'error', message: `selectMove() threw ${errorText(error)}` });
      return;
    }
    const search = lastSearch;
    send({
      type: 'move',
      move: typeof move === 'number' ? move : null,
      search:
        search === null
          ? null
          : {
              move: search.move,
              simulations: search.simulations,
              samePosition: search.player === msg.player && sameBoard(search.root, truth),
            },
    });
  });
  send({ type: 'loaded' });
}

parentPort.once('message', (msg) => {
  const port = msg.port;
  const send = port.postMessage.bind(port);
  const tid = currentThreadId();
  const cpu0 = ownCpuMs(tid !== null);
  const cpuAt = () => ownCpuMs(tid !== null) - cpu0;
  send({ type: 'hello', tid, cpu: cpu0 });
  if (role === 'train') void runTraining(send, cpuAt);
  else void runPlay(port, send);
});
