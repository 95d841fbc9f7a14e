import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isValidTag, listRunTags, runPaths } from '../../src/store/run-paths.js';
import { writeTrialArtifact } from '../../src/store/trial-artifacts.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-paths-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('run paths', () => {
  it.each(['run1', 'exp_2026-11-27', 'a', 'v1.2', 'x'.repeat(100)])('accepts tag %j', (tag) => {
    expect(isValidTag(tag)).toBe(true);
  });

  it.each(['', '.hidden', '-rf', 'a/b', 'a b', 'a..b', 'end.', 'x.lock', 'x'.repeat(101), 'é', 'a~1', 'a:b'])(
    'rejects tag %j',
    (tag) => {
      expect(isValidTag(tag)).toBe(false);
      expect(() => runPaths(dir, tag)).toThrow(UsageError);
    },
  );

  it('places a run under .crucible/runs/<tag> with absolute paths', () => {
    const paths = runPaths(dir, 'run1');
    expect(paths.runDir).toBe(join(dir, '.crucible', 'runs', 'run1'));
    expect(paths.ledger).toBe(join(paths.runDir, 'ledger.jsonl'));
    expect(paths.lock).toBe(join(paths.runDir, 'lock'));
    expect(paths.trialDir(7)).toBe(join(paths.runDir, 'trials', '7'));
  });

  it('lists the runs oldest ledger first, ignoring stray entries', async () => {
    expect(await listRunTags(dir)).toEqual([]);
    const touch = (tag: string, secondsAgo: number): void => {
      const { runDir, ledger } = runPaths(dir, tag);
      mkdirSync(runDir, { recursive: true });
      writeFileSync(ledger, '');
      const time = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(ledger, time, time);
    };
    touch('newest', 1);
    touch('oldest', 300);
    touch('middle', 60);
    writeFileSync(join(dir, '.crucible', 'runs', 'notes.txt'), '');
    mkdirSync(join(dir, '.crucible', 'runs', '.tmp'));
    expect(await listRunTags(dir)).toEqual(['oldest', 'middle', 'newest']);
  });

  it('writes trial artefacts into trials/<n>/', async () => {
    const paths = runPaths(dir, 'run1');
    const file = writeTrialArtifact(paths, 3, 'diff.patch', '--- a\n+++ b\n');
    expect(file).toBe(join(paths.trialDir(3), 'diff.patch'));
    expect(readFileSync(file, 'utf8')).toBe('--- a\n+++ b\n');
    expect(() => writeTrialArtifact(paths, 3, '../escape', 'x')).toThrow(/invalid trial artefact name/);
  });
});
