import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LedgerFollower } from '../../src/dashboard/ledger-follower.js';
import { foldRun } from '../../src/store/fold-run.js';
import { readLedgerForFold } from '../../src/store/read-run.js';
import { baseline, header, prng, randomParallelLedger, sha, trial } from '../helpers/ledger-events.js';

/** The dashboard reads only what was appended; what it folds must be what a fresh read folds. */

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const fold = (events: Parameters<typeof foldRun>[0]) => foldRun(events, { direction: 'maximize' });

describe('LedgerFollower', () => {
  it('folds, after each append (torn lines included), exactly what a fresh read of the file folds', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-follower-'));
    const file = path.join(dir, 'ledger.jsonl');
    for (let seed = 1; seed <= 12; seed++) {
      const random = prng(seed);
      const text = [...header, ...randomParallelLedger(random).events].map((e) => `${JSON.stringify(e)}\n`).join('');
      writeFileSync(file, '');
      const follower = new LedgerFollower(file);
      follower.refresh();
      let at = 0;
      while (at < text.length) {
        const size = 1 + Math.floor(random() * 2000); // cuts lines anywhere
        appendFileSync(file, text.slice(at, at + size));
        at += size;
        const change = follower.refresh();
        expect(change.kind, `seed ${seed}`).not.toBe('reset');
        expect(fold(follower.events), `seed ${seed} at ${at}`).toEqual(fold(readLedgerForFold(file)!));
      }
    }
  });

  it('starts over when the file shrinks or is replaced, and names the trials an append touched', () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-follower-'));
    const file = path.join(dir, 'ledger.jsonl');
    const events = [...header, ...baseline(5), ...trial(1, sha(1), 'keep', 7), ...trial(2, sha(101), 'discard', 6)];
    const line = (i: number): string => `${JSON.stringify(events[i])}\n`;
    writeFileSync(file, events.slice(0, 10).map((_, i) => line(i)).join(''));
    const follower = new LedgerFollower(file);
    expect(follower.refresh().kind).toBe('reset');
    expect(follower.refresh().kind).toBe('none');
    appendFileSync(file, line(10));
    const change = follower.refresh();
    expect(events[10]!.n).toBe(1);
    expect(change).toEqual({ kind: 'appended', trials: new Set([1]) });
    writeFileSync(file, line(0)); // shorter: rewritten
    expect(follower.refresh().kind).toBe('reset');
    expect(follower.events).toEqual([events[0]]);
    rmSync(file);
    expect(follower.refresh().kind).toBe('reset');
    expect(follower.events).toEqual([]);
  });
});
