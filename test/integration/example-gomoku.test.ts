import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { examplesDir } from '../../src/project/examples.js';

const example = path.join(examplesDir(), 'optimize-gomoku');
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const baseline = readFileSync(path.join(example, 'agent.js'), 'utf8');
// A short budget and a handful of games: the checks under test come before or between games.
const quick = { GOMOKU_TRAIN_MS: '400', GOMOKU_GAMES: '2' };

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'crucible-gomoku-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let copies = 0;
/** A fresh copy of the example, optionally with another agent.js. */
function copyExample(agentSource?: string): string {
  const dir = path.join(tmp, `copy-${++copies}`);
  cpSync(example, dir, { recursive: true });
  if (agentSource !== undefined) writeFileSync(path.join(dir, 'agent.js'), agentSource);
  return dir;
}

/** The baseline with one piece of code replaced (the test fails if the piece is not there). */
function patched(from: string, to: string): string {
  if (!baseline.includes(from)) throw new Error(`agent.js no longer contains: ${from}`);
  return baseline.replace(from, to);
}

function runHarness(dir: string, env: Record<string, string> = quick) {
  return spawnSync(process.execPath, ['harness/evaluate.js'], { cwd: dir, encoding: 'utf8', timeout: 40_000, env: { ...process.env, ...env } });
}

function valueOf(text: string, key: string): string | undefined {
  return new RegExp(`^${key}: (.*)$`, 'm').exec(text)?.[1];
}

const selectMoveHead = 'export function selectMove(model, board, player, helpers) {';
const searchCall = 'return helpers.mcts(board, player, evaluator(net), { simulations: SIMULATIONS, cPuct: C_PUCT }).move;';

describe('optimize-gomoku example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-gomoku',
      files: { editable: ['agent.js'], readonly: ['game.js', 'package.json'], hidden: ['harness/'] },
      commands: { run: 'node harness/evaluate.js', eval: 'cat run.log' },
      metric: { name: 'win_rate', direction: 'maximize' },
      constraints: { max_retries: 8 },
    });
  });

  it('is listed by crucible new --list and marks seven constants for the tuner', () => {
    const list = spawnSync(process.execPath, [cli, 'new', '--list'], { encoding: 'utf8' });
    expect(list.stdout).toMatch(/optimize-gomoku\s+win_rate \(maximize\)\s+AlphaZero-style/);
    const scan = parseMarkers(baseline, 'agent.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => m.identifier)).toEqual([
      'HIDDEN',
      'LEARNING_RATE',
      'SELFPLAY_SIMULATIONS',
      'SIMULATIONS',
      'C_PUCT',
      'TRAIN_STEPS_PER_GAME',
      'EXPLORATION_MOVES',
    ]);
  });

  it('validates: the bundled agent trains, passes the architecture checks and gets a win_rate', () => {
    const dir = copyExample();
    const result = spawnSync(process.execPath, [cli, 'validate', '-C', dir], {
      encoding: 'utf8',
      timeout: 50_000,
      env: { ...process.env, GOMOKU_TRAIN_MS: '1500', GOMOKU_GAMES: '6' },
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/win_rate: \d+(\.\d+)?/);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(valueOf(log, 'architecture')).toBe('ok');
    expect(Number(valueOf(log, 'win_rate'))).toBeGreaterThan(0);
    expect(valueOf(log, 'ablation_changed_moves')).toMatch(/^\d+\/16$/);
  }, 55_000);

  it('computes win_rate itself: printing a metric or writing run.log from agent.js changes nothing', () => {
    const source = `${baseline}
import { writeFileSync as writeCheat } from 'node:fs';
console.log('win_rate: 100');
process.stdout.write('win_rate: 99\\n');
console.error('win_rate: 98');
writeCheat(new URL('./run.log', import.meta.url), 'win_rate: 100\\n');
`;
    const dir = copyExample(source);
    const result = runHarness(dir);
    expect(result.status).toBe(0);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(log).toBe(result.stdout);
    expect(log.split('\n')[0]).toMatch(/^win_rate: \d+\.\d\d$/);
    expect(Number(valueOf(log, 'win_rate'))).toBeLessThan(98);
    expect(result.stdout + result.stderr).not.toMatch(/win_rate: (100|99|98)\b/);
  });

  it.each([
    [
      'plays without the search',
      'export function train() { return { weights: [new Float32Array(5000)] }; }\nexport function selectMove(model, board) { return board.indexOf(0); }',
      /did not call helpers\.mcts/,
    ],
    [
      'searches with a hand-written evaluator that ignores the network',
      `export function train() { return { weights: [Float32Array.from({ length: 5000 }, () => Math.random())] }; }
export function selectMove(model, board, player, helpers) {
  const evaluate = () => ({ priors: Float32Array.from({ length: 49 }, (_, i) => 1 / (1 + Math.abs((i / 7 | 0) - 3) + Math.abs(i % 7 - 3))), value: 0 });
  return helpers.mcts(board, player, evaluate, { simulations: 64 }).move;
}`,
      /shuffling the network's weights changed only 0 of 16/,
    ],
    [
      'returns another move than its search chose',
      patched(searchCall, 'const r = helpers.mcts(board, player, evaluator(net), { simulations: SIMULATIONS, cPuct: C_PUCT }); return board.findIndex((v, i) => v === 0 && i !== r.move);'),
      /not the move its last helpers\.mcts search chose/,
    ],
    [
      'searches another position',
      patched(searchCall, `const other = Int8Array.from(board); other[other.indexOf(0)] = 3 - player; ${searchCall.replace('mcts(board,', 'mcts(other,')}`),
      /not run on the position/,
    ],
    ['runs too few simulations', patched(searchCall, searchCall.replace('simulations: SIMULATIONS', 'simulations: 8')), /at least 32 per move/],
    ['is not deterministic', patched(searchCall, searchCall.replace('simulations: SIMULATIONS', 'simulations: SIMULATIONS + Math.floor(Math.random() * 64)')), /not deterministic/],
    ['has too small a network', baseline.replace(/^const HIDDEN = \d+;/m, 'const HIDDEN = 2;'), /at least 1000 are required/],
    ['smuggles extra state in the model', patched('return toModel(net);', 'return { ...toModel(net), book: [1, 2, 3] };'), /may only hold "weights" and "meta"/],
  ])('scores zero when the agent %s', (_, source, reason) => {
    const dir = copyExample(source);
    const result = runHarness(dir);
    expect(result.status, result.stderr).toBe(0);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(valueOf(log, 'win_rate')).toBe('0.00');
    expect(valueOf(log, 'architecture')).toBe('violated');
    expect(valueOf(log, 'violation')).toMatch(reason);
  });

  it('loses every game on time when each move takes too long', () => {
    // Slow only at a game's first move (probe positions hold more stones), to keep the test short.
    // Move limits are CPU time, so the busy loop counts CPU, not wall time: on a loaded machine
    // 400 ms of wall time may hold less than the 250 ms limit of CPU.
    const source = patched(selectMoveHead, `${selectMoveHead}\n  if (board.filter((v) => v !== 0).length <= 1) { const t = process.cpuUsage(); for (;;) { const u = process.cpuUsage(t); if (u.user + u.system > 400_000) break; } }`);
    const dir = copyExample(source);
    const result = runHarness(dir);
    expect(result.status).toBe(0);
    expect(valueOf(result.stdout, 'win_rate')).toBe('0.00');
    expect(Number(valueOf(result.stdout, 'lost_on_time'))).toBe(Number(valueOf(result.stdout, 'games')));
  });

  it.each([
    ['throws in selectMove', patched(selectMoveHead, `${selectMoveHead}\n  throw new Error('kaboom');`), /selectMove\(\) threw Error: kaboom/],
    ['returns a model that cannot be copied', patched('return toModel(net);', 'return { ...toModel(net), meta: { hidden: net.hidden, play: () => 1 } };'), /cannot be copied to another worker/],
    ['trains past its budget', 'export function train() { for (;;) {} }\nexport function selectMove() { return 0; }', /ran past its budget/],
    ['does not load', 'export function train( {', /cannot load agent\.js/],
    ['has no train()', 'export function selectMove() { return 0; }', /does not export a function train/],
  ])('crashes, with no metric, when the agent %s', (_, source, message) => {
    const dir = copyExample(source);
    const result = runHarness(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(existsSync(path.join(dir, 'run.log'))).toBe(true);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(valueOf(log, 'win_rate')).toBeUndefined();
    expect(valueOf(log, 'error')).toMatch(message);
  });
});
