import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy: copyExample, runHarness, tempPath } = useExampleCopies('optimize-snake', 'agent.js');
const originalAgent = readFileSync(path.join(example, 'agent.js'), 'utf8');

interface Cell {
  x: number;
  y: number;
}
interface State {
  snake: Cell[];
  food: Cell;
  [key: string]: unknown;
}
type ChooseMove = (state: State) => unknown;
interface ReadonlyGame {
  snake: Cell[];
  food: Cell;
  foodEaten: number;
  over: boolean;
  outcome: string | null;
}
interface GameModule {
  createGame(seed: number): ReadonlyGame;
  stateOf(game: ReadonlyGame): State;
  step(game: ReadonlyGame, move: unknown): ReadonlyGame;
}
interface HiddenGame {
  body: number[];
  food: number;
  foodEaten: number;
  over: boolean;
  outcome: string | null;
  state(): State;
  advance(move: string): void;
  kill(why: string): void;
}
interface EngineModule {
  SnakeGame: new (seed: number) => HiddenGame;
  isMove(value: unknown): boolean;
}

async function importFile<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(file).href)) as T;
}

/** The baseline agent with other weights, as a module in the temp dir that imports nothing. */
async function agentWith(weights: Record<string, number>): Promise<ChooseMove> {
  let source = originalAgent;
  for (const [name, value] of Object.entries(weights)) source = source.replace(new RegExp(`^const ${name} = [\\d.]+;`, 'm'), `const ${name} = ${value};`);
  const file = tempPath(`agent-${Object.values(weights).join('-')}.mjs`);
  writeFileSync(file, source);
  return (await importFile<{ chooseMove: ChooseMove }>(file)).chooseMove;
}

const GO_RIGHT = "export function chooseMove(state) { return 'right'; }\n";

describe('optimize-snake example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-snake',
      files: { editable: ['agent.js'], readonly: ['game.js', 'package.json'], hidden: ['evaluate.js', 'engine.js', 'sandbox.js'] },
      commands: { run: 'node evaluate.js', eval: 'cat run.log' },
      metric: { name: 'avg_score', direction: 'maximize' },
    });
  });

  it('marks five weights for the offline tuner', () => {
    const scan = parseMarkers(originalAgent, 'agent.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => [m.identifier, m.value, m.low, m.high])).toEqual([
      ['FOOD_WEIGHT', 1, 0, 10],
      ['DANGER_PENALTY', 0, 0, 1000],
      ['SPACE_WEIGHT', 0, 0, 100],
      ['TAIL_WEIGHT', 0, 0, 100],
      ['LOOKAHEAD', 0, 0, 3],
    ]);
  });

  it('plays by the same rules in the hidden engine as in the readonly game.js', async () => {
    const rules = await importFile<GameModule>(path.join(example, 'game.js'));
    const engine = await importFile<EngineModule>(path.join(example, 'engine.js'));
    const toCell = (index: number): Cell => ({ x: index % 10, y: Math.floor(index / 10) });
    const circle = ['up', 'left', 'down', 'right'];
    const agents: ChooseMove[] = [
      await agentWith({ DANGER_PENALTY: 250, SPACE_WEIGHT: 10, TAIL_WEIGHT: 25, LOOKAHEAD: 1 }),
      await agentWith({}),
      (state) => circle[(state['steps'] as number) % 4],
      () => 'down',
      (state) => ((state['steps'] as number) === 2 ? 'sideways' : 'up'),
    ];
    const endings = new Set<string | null>();
    for (const [a, chooseMove] of agents.entries()) {
      for (let seed = 1; seed <= 3; seed++) {
        const hidden = new engine.SnakeGame(seed);
        const readable = rules.createGame(seed);
        readable.food = toCell(hidden.food);
        while (!hidden.over) {
          const move = chooseMove(hidden.state());
          if (engine.isMove(move)) hidden.advance(move as string);
          else hidden.kill('illegal move');
          rules.step(readable, move);
          // Food is placed by each engine's own random source: the hidden one decides.
          if (!readable.over) readable.food = toCell(hidden.food);
          expect(readable.snake, `agent ${a}, seed ${seed}`).toEqual(hidden.body.map(toCell));
          expect([readable.over, readable.foodEaten]).toEqual([hidden.over, hidden.foodEaten]);
        }
        expect(readable.outcome).toBe(hidden.outcome);
        endings.add(hidden.outcome);
      }
    }
    expect([...endings].sort()).toEqual(['hit a wall', 'hit itself', 'illegal move', 'out of steps', 'starved']);
  });

  it('passes crucible validate, with the same score on every run', () => {
    const dir = copyExample();
    const result = validateCopy(dir);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const score = Number(/avg_score: (\S+)/.exec(result.stdout)?.[1]);
    expect(score).toBeGreaterThan(20);
    expect(score).toBeLessThan(200);
    const again = runHarness(dir);
    expect(again.status).toBe(0);
    expect(metricValue(again.log, 'avg_score')).toBe(score);
    expect(again.log).toMatch(/^endings: hit itself 30$/m);
  });

  it('writes run.log itself, so a fake metric line printed by agent.js never reaches it', () => {
    const honest = runHarness(copyExample(GO_RIGHT));
    const faking = runHarness(copyExample(GO_RIGHT.replace('{', '{ console.log("avg_score: 999"); console.error("avg_score: 999");')));
    expect(faking.status).toBe(0);
    expect(faking.log?.split('\n')[0]).toBe(`avg_score: ${metricValue(honest.log, 'avg_score')?.toFixed(2)}`);
    expect(faking.log).not.toMatch(/999/);
  });

  it('lets agent.js import the readonly game.js', () => {
    const { status, log } = runHarness(copyExample("import { MOVES } from './game.js';\nexport function chooseMove() { return MOVES[3]; }\n"));
    expect(status).toBe(0);
    expect(log).toMatch(/^endings: hit a wall 30$/m);
  });

  it.each([
    ['returns a move that does not exist', "export function chooseMove() { return 'UP'; }", /^endings: illegal move 30$/m, /illegal move: "UP"/],
    ['returns an object', "export function chooseMove() { return { toString: () => 'up' }; }", /^endings: illegal move 30$/m, /could not be cloned/],
    ['throws', "export function chooseMove() { throw new Error('boom'); }", /^endings: chooseMove threw 30$/m, /chooseMove threw: boom/],
    ['reaches for process', 'export function chooseMove() { return globalThis.process.argv[2]; }', /^endings: chooseMove threw 30$/m, /reading 'argv'/],
    // The refused import rejects asynchronously: whether the process dies before or after the
    // move it returned is a race, so some games end at a wall first. Either way the score is 0.
    ['imports a module while it plays', "export function chooseMove() { import('node:fs'); return 'down'; }", /^endings: (.*, )?no move/m, /may import only \.\/game\.js/],
  ])('kills the snake when chooseMove %s', (_, source, endings, problem) => {
    const { status, log } = runHarness(copyExample(`${source}\n`));
    expect(status).toBe(0);
    expect(metricValue(log, 'avg_score')).toBe(0);
    expect(log).toMatch(endings);
    expect(log).toMatch(problem);
  });

  it('kills the snake when a move takes too long, and goes on with the next game', () => {
    const { status, log } = runHarness(copyExample('export function chooseMove() { for (;;) {} }\n'));
    expect(status).toBe(0);
    expect(metricValue(log, 'avg_score')).toBe(0);
    expect(log).toMatch(/^endings: too slow 30$/m);
    expect(log).toMatch(/^problem: game 1, step 1: too slow: no move within 100 ms$/m);
  });

  it.each([
    ['imports node:fs', "import { writeFileSync } from 'node:fs';\nexport function chooseMove() { writeFileSync('run.log', 'avg_score: 999'); return 'up'; }", /may import only \.\/game\.js/],
    ['does not load', 'export function chooseMove() {', /cannot load agent\.js/],
    ['has no chooseMove', "export function choose() { return 'up'; }", /does not export a function chooseMove/],
  ])('crashes, with no metric, when agent.js %s', (_, source, message) => {
    const { status, log } = runHarness(copyExample(`${source}\n`));
    expect(status).toBe(1);
    expect(metricValue(log, 'avg_score')).toBeUndefined();
    expect(log).toMatch(message);
  });
});
