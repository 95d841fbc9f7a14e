import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy: copyExample, runHarness } = useExampleCopies('optimize-regression', 'model.js');
const originalModel = readFileSync(path.join(example, 'model.js'), 'utf8');

/** A model.js that predicts the training mean, plus `extra` code at the top of train(). */
function meanModel(extra = ''): string {
  return [
    'export function train(X, y) {',
    extra,
    '  return y.reduce((s, v) => s + v, 0) / y.length;',
    '}',
    'export function predict(mean, X) { return X.map(() => mean); }',
  ].join('\n');
}

describe('optimize-regression example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-regression',
      files: { editable: ['model.js'], readonly: ['package.json'], hidden: ['evaluate.js'] },
      commands: { run: 'node evaluate.js', eval: 'cat run.log' },
      metric: { name: 'val_mse', direction: 'minimize' },
      constraints: { timeout_seconds: 60, max_retries: 8 },
    });
  });

  it('marks the degree, the knots and the ridge penalty for the offline tuner', () => {
    const scan = parseMarkers(originalModel, 'model.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => [m.identifier, m.value, m.low, m.high, m.int, m.log])).toEqual([
      ['DEGREE', 1, 1, 3, true, false],
      ['KNOTS', 0, 0, 16, true, false],
      ['RIDGE_LAMBDA', 1e-6, 1e-6, 1e4, false, true],
    ]);
  });

  it('passes crucible validate, scoring the baseline with val_mse and diagnostics', () => {
    const dir = copyExample();
    const result = validateCopy(dir, { env: { NO_COLOR: '1' } });
    expect(result.status, result.stderr).toBe(0);
    const baseline = Number(/\[PASS\] Eval\/metric: val_mse: (\S+)/.exec(result.stdout)?.[1]);
    expect(baseline).toBeGreaterThan(5);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(metricValue(log, 'val_mse')).toBe(baseline);
    expect(metricValue(log, 'val_r2')).toBeGreaterThan(0.5);
    expect(metricValue(log, 'train_mse')).toBeGreaterThan(0);
    expect(metricValue(log, 'train_seconds')).toBeGreaterThan(0);
  });

  it('rewards the tuned constants: polynomial and hinge terms cut val_mse well below the baseline', () => {
    const tuned = originalModel
      .replace(/^const DEGREE = 1;/m, 'const DEGREE = 3;')
      .replace(/^const KNOTS = 0;/m, 'const KNOTS = 4;')
      .replace(/^const RIDGE_LAMBDA = 1e-6;/m, 'const RIDGE_LAMBDA = 1e-2;');
    const base = runHarness(copyExample());
    const better = runHarness(copyExample(tuned));
    expect(better.status).toBe(0);
    expect(metricValue(better.log, 'val_mse')).toBeLessThan(0.3 * (metricValue(base.log, 'val_mse') ?? 0));
  });

  it('keeps printed lines out of run.log: a fake metric from model.js does not count', () => {
    const result = runHarness(copyExample(meanModel('  console.log("val_mse: 0.000001"); process.stdout.write("\\nval_mse: 0.000001\\n");')));
    expect(result.status).toBe(0);
    expect(metricValue(result.log, 'val_mse')).toBeGreaterThan(10);
    expect(metricValue(result.stdout, 'val_mse')).toBeGreaterThan(10);
    expect(result.stdout).not.toMatch(/^val_mse: 0\.000001/m);
  });

  it('gives model.js the training targets only, rows of 10 numbers, and no environment variables', () => {
    const probe = [
      'export function train(X, y, ...rest) {',
      '  return { shape: [X.length, y.length, rest.length, X[0].length, typeof X[0][0], Object.keys(process.env).length] };',
      '}',
      'export function predict(model, X) { throw new Error("seen " + JSON.stringify([...model.shape, X.length])); }',
    ].join('\n');
    const result = runHarness(copyExample(probe));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('seen [8000,8000,0,10,"number",0,8000]');
  });

  it.each([
    ['returns too few predictions', 'export const train = () => 0;\nexport const predict = (m, X) => X.slice(1).map(() => 0);', /returned \d+ predictions for \d+ rows/],
    ['returns NaN', 'export const train = () => 0;\nexport const predict = (m, X) => X.map(() => NaN);', /not a finite number/],
    ['returns strings', 'export const train = () => 0;\nexport const predict = (m, X) => X.map(() => "1.5");', /not a finite number/],
    ['returns nothing', 'export const train = () => 0;\nexport function predict(m, X) {}', /must return an array/],
    ['throws', 'export const train = () => { throw new Error("boom"); };\nexport const predict = () => [];', /train\(Xtrain, ytrain\) failed: Error: boom/],
    ['lacks predict', 'export const train = () => 0;', /must export the functions train\(X, y\) and predict\(model, X\)/],
    ['reads the hidden harness', meanModel('  (await import("node:fs")).readFileSync(new URL("./evaluate.js", import.meta.url));').replace('export function', 'export async function'), /ERR_ACCESS_DENIED/],
    ['writes run.log itself', meanModel('  (await import("node:fs")).writeFileSync(new URL("./run.log", import.meta.url), "val_mse: 0\\n");').replace('export function', 'export async function'), /ERR_ACCESS_DENIED/],
    ['starts a child process', meanModel('  (await import("node:child_process")).execSync("true");').replace('export function', 'export async function'), /ERR_ACCESS_DENIED/],
    ['uses WebAssembly', meanModel('  WebAssembly.validate(new Uint8Array(8));'), /WebAssembly is not defined/],
    ['throws a message that holds a metric line', 'export const train = () => { throw new Error("x\\nval_mse: 0.000001"); };\nexport const predict = () => [];', /failed: Error: x/],
    ['exits early', meanModel('  process.exit(0);'), /ended the process \(exit code 0\) before returning predictions/],
  ])('is a crash, with no metric, when model.js %s', (_, source, message) => {
    const result = runHarness(copyExample(source));
    expect(result.status).toBe(1);
    expect(metricValue(result.log, 'val_mse')).toBeUndefined();
    expect(result.log).toMatch(/^error: /m);
    expect(`${result.log ?? ''}\n${result.stderr}`).toMatch(message);
    expect(result.log?.split('\n').filter((line) => line !== '')).toHaveLength(1);
  });

  it('leaves no run.log, not even an old one, when model.js kills the harness', () => {
    const dir = copyExample(meanModel('  process.kill(process.ppid, "SIGKILL");'));
    writeFileSync(path.join(dir, 'run.log'), 'val_mse: 0.000001\n');
    const result = runHarness(dir);
    expect(result.status).not.toBe(0);
    expect(result.log).toBeNull();
  });
});
