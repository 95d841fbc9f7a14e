import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpointWriter } from '../../src/store/checkpoint-writer.js';
import { foldRun } from '../../src/store/fold-run.js';
import { openLedger, readLedger, type LedgerEvent } from '../../src/store/ledger.js';
import { readRunRecord } from '../../src/store/read-run.js';
import { foldOnto } from '../../src/store/run-checkpoint.js';
import { rowsOfView } from '../../src/store/result-row-of.js';
import { runPaths } from '../../src/store/run-paths.js';
import { baseline, header, prng, randomLedger, randomParallelLedger, steps, sha, trial } from '../helpers/ledger-events.js';

/**
 * The checkpoint is a cache of the ledger's start for the read commands: whatever it holds, they
 * must read what the whole ledger says, unless it matches the ledger, and then they read it.
 */

const root = mkdtempSync(path.join(os.tmpdir(), 'crucible-checkpoint-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let projects = 0;
const lines = (events: readonly LedgerEvent[]): string => events.map((e) => `${JSON.stringify(e)}\n`).join('');

/** A project folder whose run "t" has `text` as its ledger. */
function project(text: string): { dir: string; ledger: string; checkpoint: string } {
  const dir = path.join(root, `p${++projects}`);
  const paths = runPaths(dir, 't');
  mkdirSync(paths.runDir, { recursive: true });
  writeFileSync(paths.ledger, text);
  return { dir, ledger: paths.ledger, checkpoint: paths.checkpoint };
}

/** Writes the run's checkpoint of the ledger as it stands, as the run does at the end of a session. */
function checkpointNow(p: { ledger: string; checkpoint: string }): void {
  const ledger = openLedger(p.ledger);
  openCheckpointWriter(p.checkpoint, 't', ledger).write();
  ledger.close();
}

/** What the read commands must see: the fold of the whole ledger. */
async function whole(p: { ledger: string }): Promise<{ rows: unknown; inFlight: unknown }> {
  const view = foldRun(await readLedger(p.ledger));
  return { rows: rowsOfView('t', view), inFlight: view.inFlight };
}

function read(p: { dir: string }): { rows: unknown; inFlight: unknown; whole: boolean } {
  const record = readRunRecord(p.dir, 't')!;
  return { rows: record.rows, inFlight: record.inFlight, whole: record.view !== null };
}

describe('the run checkpoint', () => {
  it('is read, with the ledger after it, and gives what the whole ledger gives (random ledgers, seeded)', async () => {
    let used = 0;
    for (let seed = 1; seed <= 120; seed++) {
      const random = prng(seed);
      const { events } = seed % 2 === 0 ? randomLedger(random) : randomParallelLedger(random, 1 + (seed % 6));
      // Descriptions outside ASCII: the checkpoint escapes them, the ledger's byte offsets must still agree.
      const all = [...header, ...events].map((e) => (e.type === 'trial.end' ? { ...e, summary: { ...(e['summary'] as object), description: `x → ü 日本 🎉 ${seed}` } } : e));
      const cut = Math.floor(random() * (all.length + 1));
      const p = project(lines(all.slice(0, cut)));
      checkpointNow(p);
      appendFileSync(p.ledger, lines(all.slice(cut)));
      const got = read(p);
      expect({ rows: got.rows, inFlight: got.inFlight }, `seed ${seed}`).toEqual(await whole(p));
      if (!got.whole) used += 1;
    }
    // Most cuts leave nothing after them that names a trial finished before: the checkpoint serves.
    expect(used).toBeGreaterThan(60);
  });

  it('is the same written by a run that opened on part of the ledger and appended the rest (random ledgers, seeded)', () => {
    // The run folds what it read at open then, not at its first write (decisions 62): its
    // checkpoint must be the one a run opening on the whole ledger writes, byte for byte.
    let foldedAtOpen = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const random = prng(1000 + seed);
      const { events } = seed % 2 === 0 ? randomLedger(random) : randomParallelLedger(random, 1 + (seed % 6));
      const all = [...header, ...events];
      const cut = 1 + Math.floor(random() * all.length);
      const p = project(lines(all.slice(0, cut)));
      const ledger = openLedger(p.ledger);
      // Every event at once: at open (parsed then), and at the write only where it falls back.
      let wholeReads = 0;
      // As a run opens it (open-run.ts): with the fold of what it read.
      const folded = foldOnto('t', null, ledger.events())!.prefix;
      const writer = openCheckpointWriter(p.checkpoint, 't', { ...ledger, events: () => (wholeReads++, ledger.events()) }, { folded });
      for (const { v: _v, ts: _ts, type, ...fields } of all.slice(cut)) ledger.append(type, fields);
      wholeReads = 0;
      writer.write();
      ledger.close();
      const written = readFileSync(p.checkpoint, 'utf8');
      checkpointNow(p);
      expect(written, `seed ${seed}, cut ${cut} of ${all.length}`).toBe(readFileSync(p.checkpoint, 'utf8'));
      if (wholeReads === 0) foldedAtOpen += 1;
    }
    // Most appends name no trial finished before the cut: the write goes on from the open's fold.
    expect(foldedAtOpen).toBeGreaterThan(30);
  });

  it('is what the reader goes by when it matches: an edit before its tail is not seen', async () => {
    const events = [...header, ...baseline(10)];
    for (let n = 1; n <= 60; n++) events.push(...trial(n, sha(1), 'discard', 20 + n));
    const p = project(lines(events));
    checkpointNow(p);
    appendFileSync(p.ledger, lines(trial(61, sha(1), 'keep', 5)));
    // Trial 3's record, rewritten in place (same length) far before the checkpoint's last bytes.
    const text = readFileSync(p.ledger, 'utf8');
    writeFileSync(p.ledger, text.replace('"metric":23,', '"metric":93,'));
    const got = read(p);
    expect(got.whole).toBe(false);
    expect((got.rows as Array<{ trial: number; metric: number }>).find((row) => row.trial === 3)?.metric).toBe(23);
    expect((got.rows as Array<{ trial: number }>).map((row) => row.trial)).toEqual(Array.from({ length: 62 }, (_, i) => i));
  });

  it('is ignored when it does not match the ledger, and the ledger is read whole', async () => {
    const events = [...header, ...baseline(10)];
    for (let n = 1; n <= 20; n++) events.push(...trial(n, sha(1), 'discard', 20 + n));
    const text = lines(events);
    const cases: Array<[string, (p: { ledger: string; checkpoint: string }) => void]> = [
      ['the ledger rewritten before its end', (p) => writeFileSync(p.ledger, text.replace('"metric":40,', '"metric":90,').replace(/"metric":39,/g, '"metric":91,'))],
      ['the ledger cut shorter', (p) => writeFileSync(p.ledger, text.slice(0, text.length / 2))],
      ['the ledger replaced', (p) => writeFileSync(p.ledger, lines([...header, ...baseline(4), ...trial(1, sha(1), 'keep', 2)]))],
      ['not JSON', (p) => writeFileSync(p.checkpoint, '{"v":1,')],
      ['another run\'s', (p) => writeFileSync(p.checkpoint, readFileSync(p.checkpoint, 'latin1').replace('"tag":"t"', '"tag":"u"'))],
      ['another version', (p) => writeFileSync(p.checkpoint, readFileSync(p.checkpoint, 'latin1').replace('"v":1', '"v":2'))],
      ['a row that is no row', (p) => writeFileSync(p.checkpoint, readFileSync(p.checkpoint, 'latin1').replace('"discard"', '"great"'))],
      ['a row without its time', (p) => writeFileSync(p.checkpoint, readFileSync(p.checkpoint, 'latin1').replace(/,"at-\d+"/, ',false'))],
      ['rows out of order', (p) => writeFileSync(p.checkpoint, readFileSync(p.checkpoint, 'latin1').replace(/("discard","[^"]*",)1,/, '$199,'))],
    ];
    for (const [what, spoil] of cases) {
      const p = project(text);
      checkpointNow(p);
      spoil(p);
      const got = read(p);
      expect(got.whole, what).toBe(true);
      expect({ rows: got.rows, inFlight: got.inFlight }, what).toEqual(await whole(p));
    }
  });

  it('gives way when the ledger after it records a trial it had finished (the later record wins)', async () => {
    const p = project(lines([...header, ...baseline(10), ...trial(1, sha(1), 'discard', 30)]));
    checkpointNow(p);
    // A recovery's second record of trial 1.
    appendFileSync(p.ledger, lines([steps.end(1, 'interrupted', null), ...trial(2, sha(1), 'keep', 5)]));
    const got = read(p);
    expect(got.whole).toBe(true);
    expect(got.rows).toEqual((await whole(p)).rows);
    expect((got.rows as Array<{ trial: number; status: string }>).find((row) => row.trial === 1)?.status).toBe('interrupted');
  });

  it('is written whole or not at all: a run killed while writing it leaves a temporary, which the next run removes', async () => {
    const p = project(lines([...header, ...baseline(10)]));
    const left = `${p.checkpoint}.4242.new`;
    writeFileSync(left, '{"v":1,"tag":"t","by');
    mkdirSync(`${p.checkpoint}.4343.new`);
    checkpointNow(p);
    expect(existsSync(left)).toBe(false);
    expect(read(p).whole).toBe(false);
  });

  it('carries the trials in flight at its point: their later steps fold onto them', async () => {
    const three = trial(3, sha(1), 'keep', 4);
    const p = project(lines([...header, ...baseline(10), ...trial(1, sha(1), 'discard', 30), ...three.slice(0, 4), ...trial(2, sha(1), 'discard', 31)]));
    checkpointNow(p);
    expect(read(p).inFlight).toEqual((await whole(p)).inFlight);
    expect((read(p).inFlight as Array<{ trial: number; phase: string }>).map((node) => [node.trial, node.phase])).toEqual([[3, 'queued']]);
    appendFileSync(p.ledger, lines(three.slice(4)));
    const got = read(p);
    expect(got.whole).toBe(false);
    expect(got.inFlight).toEqual([]);
    expect((got.rows as Array<{ trial: number; status: string }>).map((row) => `${row.trial}:${row.status}`)).toEqual(['0:baseline', '1:discard', '2:discard', '3:keep']);
  });
});
