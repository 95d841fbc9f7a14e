import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { examplesDir } from '../../src/project/examples.js';

/**
 * Throwaway copies of one bundled example, for tests that run its harness against other versions
 * of its editable file. Call at the top level of a test file: it registers a beforeAll that makes
 * the temp folder and an afterAll that removes it (with every copy in it).
 *
 * Its functions need no `this`, so they can be destructured:
 *
 *   const { source, copy, runHarness } = useExampleCopies('optimize-regression', 'model.js');
 *   const result = runHarness(copy('export const train = () => 0; ...'));
 */

export interface ExampleCopies {
  /** The bundled example folder itself: read it, never write to it. */
  source: string;
  /** A fresh copy of the example without any run.log, with `editable` replaced when given. */
  copy: (editable?: string) => string;
  /** `node <harness>` in `dir`, as crucible's run command does, and the run.log it left, if any. */
  runHarness: (dir: string) => HarnessRun;
  /** A path in the temp folder, for files a test writes beside the copies. */
  tempPath: (name: string) => string;
}

export interface HarnessRun extends SpawnSyncReturns<string> {
  /** run.log after the run; null when the harness left none. */
  log: string | null;
}

export interface HarnessOptions {
  /** The harness script, relative to the copy; default evaluate.js. */
  harness?: string;
  /** Default 50 s. */
  timeoutMs?: number;
}

/** Copies of `examples/<example>` whose editable file is `editableFile`. */
export function useExampleCopies(example: string, editableFile: string, options: HarnessOptions = {}): ExampleCopies {
  const source = path.join(examplesDir(), example);
  const harness = options.harness ?? 'evaluate.js';
  const timeout = options.timeoutMs ?? 50_000;
  let tmp = '';
  let copies = 0;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), `crucible-${example}-`));
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  return {
    source,
    copy: (editable) => {
      const dir = path.join(tmp, `copy-${++copies}`);
      cpSync(source, dir, { recursive: true });
      // A run.log left in the example by a manual run would pass for the harness's own.
      rmSync(path.join(dir, 'run.log'), { force: true });
      if (editable !== undefined) writeFileSync(path.join(dir, editableFile), editable);
      return dir;
    },
    runHarness: (dir) => {
      const result = spawnSync(process.execPath, [harness], { cwd: dir, encoding: 'utf8', timeout });
      const logFile = path.join(dir, 'run.log');
      return { ...result, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : null };
    },
    tempPath: (name) => path.join(tmp, name),
  };
}

/** The number on the line `name: <value>` of `text` (a run.log or stdout); undefined when there is none. */
export function metricValue(text: string | null, name: string): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}:\\s*(\\S+)$`, 'm').exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** `crucible validate -C dir` with the built CLI; `env` is added to this process's environment. */
export function validateCopy(dir: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [cli, 'validate', '-C', dir], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 50_000,
    env: { ...process.env, ...options.env },
  });
}
