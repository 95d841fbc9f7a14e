import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { examplesDir } from '../../src/project/examples.js';

const example = path.join(examplesDir(), 'optimize-sorting');
const originalSort = readFileSync(path.join(example, 'sort.js'), 'utf8');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'crucible-sorting-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let copies = 0;
/** A fresh copy of the example, optionally with another sort.js. */
function copyExample(sortSource?: string): string {
  const dir = path.join(tmp, `copy-${++copies}`);
  cpSync(example, dir, { recursive: true });
  if (sortSource !== undefined) writeFileSync(path.join(dir, 'sort.js'), sortSource);
  return dir;
}

function runBenchmark(dir: string) {
  return spawnSync(process.execPath, ['benchmark.js'], { cwd: dir, encoding: 'utf8', timeout: 50_000 });
}

function metricOf(stdout: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(stdout);
  return match ? Number(match[1]) : undefined;
}

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
      constraints: { timeout_seconds: 60, max_retries: 5 },
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
      const file = path.join(tmp, `sort-${setting.cutoff}-${setting.radixMin}-${setting.bits}.mjs`);
      writeFileSync(file, withConstants(setting));
      const { sortNumbers } = (await import(pathToFileURL(file).href)) as { sortNumbers: (a: number[]) => ArrayLike<number> };
      for (const input of inputs) {
        const expected = Array.from(Int32Array.from(input).sort());
        expect(Array.from(sortNumbers([...input])), JSON.stringify(setting)).toEqual(expected);
      }
    }
  });

  it('prints a positive ops_per_sec and correct: true for the bundled sort', () => {
    const dir = copyExample();
    const config = parseConfigText(readFileSync(path.join(dir, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    if (!config.ok) throw new Error(config.errors.join('\n'));
    // The experiment exactly as crucible runs it: the run command, then the eval command.
    const run = spawnSync('/bin/sh', ['-c', config.config.commands.run], { cwd: dir, encoding: 'utf8', timeout: 50_000 });
    expect(run.status).toBe(0);
    const evaluated = spawnSync('/bin/sh', ['-c', config.config.commands.eval], { cwd: dir, encoding: 'utf8' });
    expect(metricOf(evaluated.stdout, 'ops_per_sec')).toBeGreaterThan(0);
    expect(evaluated.stdout).toMatch(/^correct: true$/m);
    expect(evaluated.stdout).toMatch(/^avg_ms: \d+\.\d+$/m);
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
  ])('scores zero when the sort %s', (_, source) => {
    const result = runBenchmark(copyExample(source));
    expect(result.status).toBe(0);
    expect(metricOf(result.stdout, 'ops_per_sec')).toBe(0);
    expect(result.stdout).toMatch(/^correct: false$/m);
    expect(result.stderr).toMatch(/wrong result/);
  });

  it.each([
    ['throws', 'export function sortNumbers(arr) { throw new Error("boom"); }', /boom/],
    ['does not load', 'export function sortNumbers(arr) { return arr.sort(; }', /cannot load sort\.js/],
    ['has no sortNumbers', 'export function sortNumber(arr) { return arr; }', /does not export a function sortNumbers/],
  ])('exits non-zero, with no metric, when sort.js %s', (_, source, message) => {
    const result = runBenchmark(copyExample(source));
    expect(result.status).not.toBe(0);
    expect(metricOf(result.stdout, 'ops_per_sec')).toBeUndefined();
    expect(result.stderr).toMatch(message);
  });
});
