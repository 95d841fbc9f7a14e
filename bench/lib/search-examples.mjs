/**
 * The bundled examples as black boxes for bench/search.mjs: an editable file whose marked
 * constants are rewritten, and the example's own harness (its `commands.run`, unchanged, in a
 * private copy of the example) run to read the metric. That is what a trial of the real loop
 * measures, minus git and the agent turn. Results are cached on disk by the editable file's
 * exact text: the harnesses are deterministic (checked once per example: the baseline is measured
 * twice), so a cached value is the value a new run would print.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const DETERMINISTIC_EXAMPLES = [
  { name: 'optimize-regression', file: 'model.js', metric: 'val_mse', direction: 'minimize' },
  { name: 'optimize-compress', file: 'compress.js', metric: 'compression_ratio', direction: 'maximize' },
  { name: 'optimize-classifier', file: 'classifier.js', metric: 'val_accuracy', direction: 'maximize' },
  { name: 'optimize-snake', file: 'agent.js', metric: 'avg_score', direction: 'maximize' },
];

/**
 * An evaluator for one example: `measure(source)` → metric or null (a crash), at most `workers`
 * harnesses at once, each in its own copy of the example.
 */
export function createEvaluator(repoRoot, example, { workers = 2, cacheDir }) {
  const source = path.join(repoRoot, 'examples', example.name);
  const original = readFileSync(path.join(source, example.file), 'utf8');
  const cacheFile = path.join(cacheDir, `${example.name}.json`);
  mkdirSync(cacheDir, { recursive: true });
  const cache = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {};
  const scratch = mkdtempSync(path.join(os.tmpdir(), `crucible-search-${example.name}-`));
  const copies = Array.from({ length: workers }, (_, i) => {
    const dir = path.join(scratch, String(i));
    cpSync(source, dir, { recursive: true, filter: (p) => !p.includes(`${path.sep}.crucible`) });
    return dir;
  });
  const free = [...copies];
  const waiting = [];
  const inFlight = new Map();
  let harnessRuns = 0;

  async function runHarness(text) {
    while (free.length === 0) await new Promise((resolve) => waiting.push(resolve));
    const dir = free.pop();
    try {
      writeFileSync(path.join(dir, example.file), text);
      rmSync(path.join(dir, 'run.log'), { force: true });
      harnessRuns++;
      await new Promise((resolve) => {
        const child = spawn('node', ['evaluate.js'], { cwd: dir, stdio: 'ignore' });
        child.on('close', resolve);
      });
      const log = existsSync(path.join(dir, 'run.log')) ? readFileSync(path.join(dir, 'run.log'), 'utf8') : '';
      const match = new RegExp(`^${example.metric}:\\s*(\\S+)`, 'm').exec(log);
      const value = match === null ? null : Number(match[1]);
      return value === null || !Number.isFinite(value) ? null : value;
    } finally {
      free.push(dir);
      waiting.shift()?.();
    }
  }

  return {
    original,
    async measure(text) {
      const key = createHash('sha1').update(text).digest('hex');
      if (key in cache) return cache[key];
      if (!inFlight.has(key)) {
        inFlight.set(
          key,
          runHarness(text).then((value) => {
            cache[key] = value;
            inFlight.delete(key);
            // Saved at once: on a loaded 2-core box a harness run can take 30 s, and a run cut
            // short must not lose the hour it measured (a rerun reads the cache).
            writeFileSync(cacheFile, JSON.stringify(cache));
            return value;
          }),
        );
      }
      return inFlight.get(key);
    },
    /** The baseline measured twice in fresh harness runs: the bench refuses a noisy metric. */
    async checkDeterministic() {
      const [a, b] = await Promise.all([runHarness(original), runHarness(original)]);
      if (a !== b) throw new Error(`${example.name}: the baseline measured ${a} and ${b}; not deterministic`);
      return a;
    },
    save() {
      writeFileSync(cacheFile, JSON.stringify(cache));
    },
    harnessRuns: () => harnessRuns,
    dispose() {
      writeFileSync(cacheFile, JSON.stringify(cache));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
