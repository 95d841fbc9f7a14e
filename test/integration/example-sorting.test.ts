import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy: copyExample, runHarness: runBenchmark, tempPath } = useExampleCopies('optimize-sorting', 'sort.js', { harness: 'benchmark.js' });
const originalSort = readFileSync(path.join(example, 'sort.js'), 'utf8');

/** The experiment exactly as crucible runs it: the config's run command, then its eval command. */
function runExperiment(dir: string) {
  const config = parseConfigText(readFileSync(path.join(dir, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
  if (!config.ok) throw new Error(config.errors.join('\n'));
  const run = spawnSync('/bin/sh', ['-c', config.config.commands.run], { cwd: dir, encoding: 'utf8', timeout: 50_000 });
  const evaluated = spawnSync('/bin/sh', ['-c', config.config.commands.eval], { cwd: dir, encoding: 'utf8' });
  return { run, evaluated };
}

// Far above any honest result (sorting 400 000+ integers takes more than a millisecond), far
// below what a fooled clock or a forged line would give.
const HONEST_CEILING = 2000;

// A correct sort wrapped around each gaming attempt, so that only the attempt can move the score.
const honestSort = 'export function sortNumbers(arr) { return arr.sort(); }\n';

/** sort.js with its @tune constants set to other values. */
function withConstants(values: { cutoff: number; radixMin: number; bits: number }): string {
  return originalSort
    .replace(/^const INSERTION_CUTOFF = \d+;/m, `const INSERTION_CUTOFF = ${values.cutoff};`)
    .replace(/^const RADIX_MIN_LENGTH = \d+;/m, `const RADIX_MIN_LENGTH = ${values.radixMin};`)
    .replace(/^const RADIX_BITS = \d+;/m, `const RADIX_BITS = ${values.bits};`);
}

describe('optimize-sorting example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-sorting',
      files: { editable: ['sort.js'], hidden: ['benchmark.js'] },
      metric: { name: 'ops_per_sec', direction: 'maximize' },
      commands: { run: 'node benchmark.js', eval: 'cat run.log' },
      constraints: { timeout_seconds: 60, max_retries: 8 },
    });
  });

  it('marks three constants for the offline tuner', () => {
    const scan = parseMarkers(originalSort, 'sort.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => [m.identifier, m.value, m.low, m.high, m.int])).toEqual([
      ['INSERTION_CUTOFF', 1, 1, 256, true],
      ['RADIX_MIN_LENGTH', 10000000, 16, 10000000, true],
      ['RADIX_BITS', 4, 4, 16, true],
    ]);
  });

  it('sorts correctly at any setting of its constants, negatives and extremes included', async () => {
    const inputs: number[][] = [[], [5], [2, 1], [0, 3, 0, -3], Array.from({ length: 300 }, (_, i) => (i % 2 ? i : -i) | 0)];
    let seed = 7;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    inputs.push(Array.from({ length: 2000 }, next));
    inputs.push(Array.from({ length: 1000 }, () => (next() % 5) - 2));
    inputs.push([2147483647, -2147483648, 0, -1, 1, -2147483648, 2147483647]);
    const settings = [
      { cutoff: 1, radixMin: 10000000, bits: 4 },
      { cutoff: 256, radixMin: 10000000, bits: 4 },
      ...[4, 5, 7, 11, 16].map((bits) => ({ cutoff: 7, radixMin: 2, bits })),
    ];
    for (const setting of settings) {
      const file = tempPath(`sort-${setting.cutoff}-${setting.radixMin}-${setting.bits}.mjs`);
      writeFileSync(file, withConstants(setting));
      const { sortNumbers } = (await import(pathToFileURL(file).href)) as { sortNumbers: (a: Int32Array) => ArrayLike<number> };
      for (const input of inputs) {
        const expected = Array.from(Int32Array.from(input).sort());
        // As the harness hands them over: a view into a larger buffer shared with other arrays.
        const shared = new Int32Array(input.length + 6).fill(99);
        const view = shared.subarray(3, 3 + input.length);
        view.set(input);
        expect(Array.from(sortNumbers(view)), JSON.stringify(setting)).toEqual(expected);
        expect([...shared.subarray(0, 3), ...shared.subarray(3 + input.length)]).toEqual([99, 99, 99, 99, 99, 99]);
      }
    }
  });

  it('passes crucible validate with a positive ops_per_sec from the bundled sort', () => {
    const dir = copyExample();
    const result = validateCopy(dir);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\[PASS\] Run command/);
    const metric = /\[PASS\] Eval\/metric: ops_per_sec: (\S+)/.exec(result.stdout);
    expect(Number(metric?.[1])).toBeGreaterThan(0);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(log).toMatch(/^ops_per_sec: \d+\.\d\nmedian_ms: \d+\.\d+\navg_ms: \d+\.\d+\ncorrect: true\n$/);
  });

  it.each([
    ['returns the input unsorted', 'export function sortNumbers(arr) { return arr; }'],
    ['drops an element', 'export function sortNumbers(arr) { const s = Int32Array.from(arr).sort(); return s.subarray(1); }'],
    ['replaces an element', 'export function sortNumbers(arr) { const s = Int32Array.from(arr).sort(); s[0] = s[1]; return s; }'],
    [
      'reuses one buffer for every result',
      'const buf = new Int32Array(200000);\nexport function sortNumbers(arr) { const s = buf.subarray(0, arr.length); s.set(arr); return s.sort(); }',
    ],
    ['returns nothing', 'export function sortNumbers(arr) { arr.sort((a, b) => a - b); }'],
    ['returns a plain Array with a string in it', 'export function sortNumbers(arr) { const s = Array.from(arr.sort()); s[0] = String(s[0]); return s; }'],
    ['sorts the whole shared buffer', 'export function sortNumbers(arr) { new Int32Array(arr.buffer).sort(); return arr; }'],
  ])('scores zero when the sort %s', (_, source) => {
    const result = runBenchmark(copyExample(source));
    expect(result.status).toBe(0);
    expect(metricValue(result.stdout, 'ops_per_sec')).toBe(0);
    expect(result.stdout).toMatch(/^correct: false$/m);
    expect(result.stderr).toMatch(/wrong result/);
  });

  it.each([
    ['throws', 'export function sortNumbers(arr) { throw new Error("boom"); }', /boom/],
    ['does not load', 'export function sortNumbers(arr) { return arr.sort(; }', /cannot load sort\.js/],
    ['has no sortNumbers', 'export function sortNumber(arr) { return arr; }', /does not export a function sortNumbers/],
    ['ends its worker', 'export function sortNumbers(arr) { process.exit(0); }', /ended its worker/],
  ])('exits non-zero, with no metric, when sort.js %s', (_, source, message) => {
    const result = runBenchmark(copyExample(source));
    expect(result.status).not.toBe(0);
    expect(metricValue(result.stdout, 'ops_per_sec')).toBeUndefined();
    expect(result.stderr).toMatch(message);
    expect(result.log).toMatch(/^error: /);
  });

  it.each([
    [
      'prints a fake metric line',
      [
        "import { writeSync } from 'node:fs';",
        "console.log('ops_per_sec: 999999'); console.error('ops_per_sec: 999999');",
        // Straight to the process's stdout, past the worker's captured streams: not what eval reads.
        "writeSync(1, 'ops_per_sec: 888888\\n');",
      ].join('\n'),
    ],
    [
      'patches the clocks',
      [
        'const zero = () => 0; process.hrtime = () => [0, 0]; process.hrtime.bigint = () => 0n;',
        'performance.now = zero; Date.now = zero; globalThis.performance = { now: zero };',
      ].join('\n'),
    ],
    [
      'writes run.log itself',
      [
        "import { writeFileSync } from 'node:fs';",
        "const forge = () => writeFileSync('run.log', 'ops_per_sec: 999999\\ncorrect: true\\n');",
        'forge(); setInterval(forge, 1);',
      ].join('\n'),
    ],
  ])('does not raise the score when sort.js %s', (_, trick) => {
    const dir = copyExample(`${trick}\n${honestSort}`);
    const { run, evaluated } = runExperiment(dir);
    expect(run.status).toBe(0);
    // What sort.js printed through console never reaches crucible's output.
    expect(run.stdout).not.toMatch(/999999/);
    expect(run.stderr).not.toMatch(/999999/);
    expect(evaluated.stdout).toMatch(/^ops_per_sec: \d+\.\d\nmedian_ms: [\d.]+\navg_ms: [\d.]+\ncorrect: true\n$/);
    const score = metricValue(evaluated.stdout, 'ops_per_sec');
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(HONEST_CEILING);
  });
});
