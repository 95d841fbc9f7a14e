import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMarkers } from '../../src/agents/tuner/marker.js';
import { parseConfigText } from '../../src/config/load.js';
import { metricValue, useExampleCopies, validateCopy } from '../helpers/example-project.js';

const { source: example, copy: copyExample, runHarness } = useExampleCopies('optimize-classifier', 'classifier.js');
const originalClassifier = readFileSync(path.join(example, 'classifier.js'), 'utf8');

/** A classifier.js without learning: `row` is the body of a function of (i) that returns one row. */
function answering(row: string, before = ''): string {
  return `export async function trainAndPredict(Xtrain, ytrain, Xval) {\n${before}\n  return Xval.map((_, i) => ${row});\n}\n`;
}
const UNIFORM = 'new Array(8).fill(1 / 8)';

describe('optimize-classifier example', () => {
  it('has a config the real loader accepts, with the harness hidden', () => {
    const result = parseConfigText(readFileSync(path.join(example, '.crucible', 'config.yaml'), 'utf8'), 'config.yaml');
    expect(result).toMatchObject({ ok: true, warnings: [] });
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      name: 'optimize-classifier',
      files: { editable: ['classifier.js'], readonly: ['package.json'], hidden: ['evaluate.js'] },
      commands: { run: 'node evaluate.js', eval: 'cat run.log' },
      metric: { name: 'val_accuracy', direction: 'maximize' },
      constraints: { timeout_seconds: 90, max_retries: 8 },
    });
  });

  it('marks five training constants for the offline tuner', () => {
    const scan = parseMarkers(originalClassifier, 'classifier.js');
    expect(scan.problems).toEqual([]);
    expect(scan.markers.map((m) => [m.identifier, m.value, m.low, m.high, m.int, m.log])).toEqual([
      ['HIDDEN_UNITS', 16, 4, 128, true, true],
      ['LEARNING_RATE', 0.01, 0.0005, 0.5, false, true],
      ['EPOCHS', 5, 1, 40, true, true],
      ['BATCH_SIZE', 32, 4, 256, true, true],
      ['WEIGHT_DECAY', 1e-3, 1e-6, 1e-2, false, true],
    ]);
  });

  it('passes crucible validate, scoring the baseline with val_accuracy and per-class accuracy', () => {
    const dir = copyExample();
    const result = validateCopy(dir, { env: { NO_COLOR: '1' } });
    expect(result.status, result.stderr).toBe(0);
    const baseline = Number(/\[PASS\] Eval\/metric: val_accuracy: (\S+)/.exec(result.stdout)?.[1]);
    expect(baseline).toBeGreaterThan(0.3);
    expect(baseline).toBeLessThan(0.7);
    const log = readFileSync(path.join(dir, 'run.log'), 'utf8');
    expect(metricValue(log, 'val_accuracy')).toBe(baseline);
    expect(metricValue(log, 'val_log_loss')).toBeGreaterThan(0);
    for (let k = 0; k < 8; k++) expect(metricValue(log, `class_${k}_accuracy`)).toBeGreaterThanOrEqual(0);
    expect(log).toMatch(/^valid: true$/m);
  });

  it('rewards the tuned constants: a wider net trained longer beats the baseline clearly', () => {
    const tuned = originalClassifier
      .replace(/^const HIDDEN_UNITS = 16;/m, 'const HIDDEN_UNITS = 32;')
      .replace(/^const LEARNING_RATE = 0.01;/m, 'const LEARNING_RATE = 0.05;')
      .replace(/^const EPOCHS = 5;/m, 'const EPOCHS = 8;');
    const base = runHarness(copyExample());
    const better = runHarness(copyExample(tuned));
    expect(better.status).toBe(0);
    expect(metricValue(better.log, 'val_accuracy')).toBeGreaterThan((metricValue(base.log, 'val_accuracy') ?? 1) + 0.1);
  });

  it('keeps printed lines out of run.log: a fake metric from classifier.js does not count', () => {
    const result = runHarness(copyExample(answering(UNIFORM, '  console.log("val_accuracy: 1.0"); process.stdout.write("\\nval_accuracy: 1.0\\n");')));
    expect(result.status).toBe(0);
    // Uniform rows: ties go to class 0, so this is the share of class 0, about 1/8.
    expect(metricValue(result.log, 'val_accuracy')).toBeLessThan(0.2);
    expect(result.stdout).not.toMatch(/^val_accuracy: 1\.0/m);
  });

  it('gives classifier.js the training labels only, and the validation rows without theirs', () => {
    const probe = [
      'export function trainAndPredict(Xtrain, ytrain, Xval, ...rest) {',
      '  const labels = [...new Set(ytrain)].sort();',
      '  throw new Error("seen " + JSON.stringify([Xtrain.length, ytrain.length, Xval.length, rest.length, Xval[0].length, labels]));',
      '}',
    ].join('\n');
    const result = runHarness(copyExample(probe));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('seen [16000,16000,5000,0,20,[0,1,2,3,4,5,6,7]]');
  });

  it.each([
    ['rows that sum to 2', 'new Array(8).fill(0.25)'],
    ['a negative probability', '[1.5, -0.5, 0, 0, 0, 0, 0, 0]'],
    ['NaN', 'new Array(8).fill(NaN)'],
    ['7 columns', 'new Array(7).fill(1 / 7)'],
    ['strings', 'new Array(8).fill("0.125")'],
    ['a row that is not an array', '0'],
    ['a fake metric line inside a value', '["\\nval_accuracy: 1", 0, 0, 0, 0, 0, 0, 0]'],
  ])('scores 0 with valid: false when the matrix has %s', (_, row) => {
    const result = runHarness(copyExample(answering(row)));
    expect(result.status).toBe(0);
    expect(metricValue(result.log, 'val_accuracy')).toBe(0);
    expect(result.log).toMatch(/^valid: false$/m);
    expect(result.log).toMatch(/^reason: row 0/m);
    expect(result.log?.split('\n').filter((line) => line.startsWith('val_accuracy:'))).toHaveLength(1);
  });

  it('scores 0 when the matrix has the wrong number of rows', () => {
    const result = runHarness(copyExample(answering(UNIFORM).replace('return Xval.map', 'return Xval.slice(1).map')));
    expect(metricValue(result.log, 'val_accuracy')).toBe(0);
    expect(result.log).toMatch(/^reason: 4999 rows for 5000 validation rows$/m);
  });

  it.each([
    ['throws', 'export function trainAndPredict() { throw new Error("boom"); }', /trainAndPredict\(Xtrain, ytrain, Xval\) failed: Error: boom/],
    ['has no trainAndPredict', 'export function train() {}', /must export the function trainAndPredict/],
    ['reads the hidden harness', answering(UNIFORM, '  (await import("node:fs")).readFileSync(new URL("./evaluate.js", import.meta.url));'), /ERR_ACCESS_DENIED/],
    ['writes run.log itself', answering(UNIFORM, '  (await import("node:fs")).writeFileSync(new URL("./run.log", import.meta.url), "val_accuracy: 1\\n");'), /ERR_ACCESS_DENIED/],
    ['starts a worker', answering(UNIFORM, '  new (await import("node:worker_threads")).Worker("1", { eval: true });'), /ERR_ACCESS_DENIED/],
  ])('is a crash, with no metric, when classifier.js %s', (_, source, message) => {
    const result = runHarness(copyExample(source));
    expect(result.status).toBe(1);
    expect(metricValue(result.log, 'val_accuracy')).toBeUndefined();
    expect(`${result.log ?? ''}\n${result.stderr}`).toMatch(message);
  });

  it('leaves no run.log, not even an old one, when classifier.js kills the harness', () => {
    const dir = copyExample(answering(UNIFORM, '  process.kill(process.ppid, "SIGKILL");'));
    writeFileSync(path.join(dir, 'run.log'), 'val_accuracy: 1.0\n');
    const result = runHarness(dir);
    expect(result.status).not.toBe(0);
    expect(result.log).toBeNull();
  });
});
