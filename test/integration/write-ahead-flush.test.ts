import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { git } from '../helpers/git-repo.js';
import { createTinyProject, findInconsistencies, killLeftovers, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * The write-ahead rule after a power cut (not a kill: the page cache survives those): every
 * change crucible makes to the project's refs (the run branch, a failed/ tag) is made after the
 * ledger events announcing it reached the disk. Watched on a real run, in this process: each
 * fdatasync of the ledger notes how much of it is on disk, and each rename onto a ref checks
 * that nothing appended to the ledger is still waiting for a flush. With a plain repository
 * crucible writes refs itself (ref-files.ts), so every ref change goes through that rename.
 */

let project: TinyProject | undefined;
const restore: Array<() => void> = [];
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
  syncBuiltinESMExports();
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function watch<K extends 'fdatasyncSync' | 'renameSync'>(name: K, around: (original: (typeof fs)[K]) => (typeof fs)[K]): void {
  const original = fs[name];
  fs[name] = around(original);
  restore.push(() => {
    fs[name] = original;
  });
  syncBuiltinESMExports();
}

const TUNER = ['name: tiny', 'files:', '  editable: [solution.js]', '  readonly: [package.json]', '  hidden: [evaluate.js]', 'commands:', '  run: node evaluate.js > run.log 2>&1', '  eval: cat run.log', 'metric:', '  name: score', '  direction: maximize', 'constraints:', '  max_retries: 50', 'agent:', '  type: tuner', '  tuner:', '    seed: 3', ''].join('\n');

describe('the write-ahead rule, flush by flush', () => {
  it.each([
    // A command agent: each way back is taken during the next agent turn, its tag with it.
    ['a command agent', () => createTinyProject({ agent: 'command' }), 5, 2],
    // The tuner: each way back goes with the next change's move, in one ref transaction.
    ['the tuner', () => createTinyProject({ configText: TUNER }), 12, 1],
    // Two slots: experiments away from the project folder, tags set as each trial is decided.
    ['two slots', () => createTinyProject({ agent: 'command', parallel: '{ workers: 2 }' }), 5, null],
  ] as const)("moves no ref before the ledger's events are on disk: %s (decisions 85)", async (_, create, trials, movesPerTrial) => {
    const p = create();
    project = p;
    // Discards, a keep, a crash.
    planAgent(p, { 1: { x: 0 }, 2: { x: 50 }, 3: { x: 10 }, 4: { x: 70 }, 5: { x: 5 } });
    setKnob(p, 'crash.4', '1');
    const ledgerFile = path.join(p.dir, '.crucible', 'runs', 't', 'ledger.jsonl');
    const refsDir = path.join(p.dir, '.git', 'refs') + path.sep;
    let flushed = 0;
    let ledgerFlushes = 0;
    const refMoves: string[] = [];
    const early: string[] = [];
    watch('fdatasyncSync', (original) => (fd) => {
      original(fd);
      const info = fs.fstatSync(fd);
      const ledger = fs.statSync(ledgerFile, { throwIfNoEntry: false });
      if (ledger !== undefined && ledger.ino === info.ino && ledger.dev === info.dev) {
        flushed = info.size;
        ledgerFlushes += 1;
      }
    });
    watch('renameSync', (original) => (from, to) => {
      const target = String(to);
      if (target.startsWith(refsDir)) {
        const ref = target.slice(refsDir.length);
        refMoves.push(ref);
        const size = fs.statSync(ledgerFile).size;
        if (size !== flushed) {
          // Said without parsing: a throw here would make crucible fall back to git, unseen.
          const waiting = [...fs.readFileSync(ledgerFile).subarray(flushed).toString('utf8').matchAll(/"type":"([^"]+)"/g)].map((m) => m[1]);
          early.push(`${ref}: ${size - flushed} bytes of ledger not flushed (${waiting.join(', ')})`);
        }
      }
      original(from, to);
    });

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: trials });

    expect(early).toEqual([]);
    // And no more flushes than that needs: one before each move of the project folder (two a
    // trial with an agent of its own process, one with the tuner), one at the baseline's end.
    if (movesPerTrial !== null) expect(ledgerFlushes).toBeLessThanOrEqual(movesPerTrial * trials + 2);
    // The watch saw the refs move: the run branch, and a tag for each trial not kept.
    expect(refMoves).toContain('heads/crucible/t');
    const failed = git(p.dir, 'tag', '--list', 'failed/t/*').split('\n').filter(Boolean);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(refMoves.filter((ref) => ref.startsWith('tags/failed/t/')).sort()).toEqual(failed.map((tag) => `tags/${tag}`).sort());
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
