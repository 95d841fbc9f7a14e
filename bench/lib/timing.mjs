import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { median, round } from './stats.mjs';

/**
 * Wall time of a spawned command, start to exit, `runs` times; the median in ms. A command that
 * fails throws: a bench that times an error message measures nothing.
 */
export function timeCommand(file, args, { cwd, env, runs = 10 }) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const result = spawnSync(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    times.push(performance.now() - start);
    if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${result.status}: ${result.stderr.trim()}`);
  }
  return { median: round(median(times)), min: round(Math.min(...times)), max: round(Math.max(...times)), runs };
}
