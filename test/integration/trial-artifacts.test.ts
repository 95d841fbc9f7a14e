import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { LogSink } from '../../src/runner/log-sink.js';
import { writeNamedFile } from '../../src/store/trial-artifacts.js';

// An artefact's folder is made only when the write finds it missing: one removed during a run
// (by hand, or by an experiment outside the sandbox) is made again, not a failure.
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("a trial's files", () => {
  it('are written into their folder, made when it is missing', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-artefacts-'));
    const file = path.join(dir, 'runs', 't', 'trials', '3', 'diff.patch');
    writeNamedFile(file, 'one\n');
    expect(readFileSync(file, 'utf8')).toBe('one\n');
    writeNamedFile(file, 'two\n');
    expect(readFileSync(file, 'utf8')).toBe('two\n');
    rmSync(path.join(dir, 'runs', 't', 'trials'), { recursive: true });
    writeNamedFile(file, 'three\n');
    expect(readFileSync(file, 'utf8')).toBe('three\n');
  });

  it('fail with the file named when a file stands where their folder should be', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-artefacts-'));
    writeFileSync(path.join(dir, 'trials'), '');
    const file = path.join(dir, 'trials', '1', 'prompt.md');
    expect(() => writeNamedFile(file, 'x')).toThrow(StorageError);
    expect(() => writeNamedFile(file, 'x')).toThrow(file);
  });

  it('include logs, appended to, their folder made when it is missing', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-artefacts-'));
    const log = path.join(dir, 'trials', '2', 'run.log');
    for (const text of ['run\n', 'eval\n']) {
      const sink = new LogSink(log, 1024);
      sink.write(Buffer.from(text));
      sink.close();
    }
    expect(readFileSync(log, 'utf8')).toBe('run\neval\n');
  });
});
