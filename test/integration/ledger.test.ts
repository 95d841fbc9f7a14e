import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLedger, readLedger } from '../../src/store/ledger.js';
import type { Ledger } from '../../src/store/ledger.js';

let dir: string;
let file: string;
const open: Ledger[] = [];
const openTracked = (): Ledger => {
  const ledger = openLedger(file, { now: () => new Date('2026-11-27T10:02:00.000Z') });
  open.push(ledger);
  return ledger;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-ledger-'));
  file = join(dir, '.crucible', 'runs', 'run1', 'ledger.jsonl');
});
afterEach(() => {
  for (const ledger of open.splice(0)) ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ledger.jsonl', () => {
  it('writes one JSON event per line, creating the run folder', () => {
    const ledger = openTracked();
    const event = ledger.append('trial.start', { n: 1, parent: 'abc1234' });
    ledger.append('agent.done', { n: 1, files: ['train.py'], description: 'line one\nline two', usage: undefined });
    ledger.sync();
    expect(event).toEqual({ v: 1, ts: '2026-11-27T10:02:00.000Z', type: 'trial.start', n: 1, parent: 'abc1234' });
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1] ?? '')).toEqual({
      v: 1, ts: '2026-11-27T10:02:00.000Z', type: 'agent.done', n: 1, files: ['train.py'], description: 'line one\nline two',
    });
    expect(ledger.events().map((e) => e.type)).toEqual(['trial.start', 'agent.done']);
  });

  it('ignores a garbage line and cuts a torn tail; events appended after reopening continue the file', async () => {
    const first = openTracked();
    first.append('trial.start', { n: 1 });
    first.append('commit', { n: 1, sha: 'abc' });
    first.close();
    writeFileSync(file, `${readFileSync(file, 'utf8')}not json at all\n{"v":1,"ts":"x","type":"run.st`, { flag: 'w' });

    expect((await readLedger(file)).map((e) => e.type)).toEqual(['trial.start', 'commit']);
    const reopened = openTracked();
    expect(reopened.repaired).toBe('{"v":1,"ts":"x","type":"run.st');
    expect(reopened.problems).toEqual(['line 3: not valid JSON; ignored']);
    expect(reopened.events().map((e) => e.type)).toEqual(['trial.start', 'commit']);
    expect(reopened.lastEvent()?.type).toBe('commit');

    reopened.append('run.start', { n: 1, sha: 'abc', pgid: 4242 });
    reopened.sync();
    const events = await readLedger(file);
    expect(events.map((e) => `${e.type}:${String(e.n)}`)).toEqual(['trial.start:1', 'commit:1', 'run.start:1']);
    expect(readFileSync(file, 'utf8').endsWith('"pgid":4242}\n')).toBe(true);
  });

  it('puts a long ledger back exactly as it wrote it, whatever else changed the file, and reads any stretch of it', () => {
    // Thousands of events: the kept lines span many compressed chunks, the events read at open
    // included, and the file's garbage line stays out.
    const first = openTracked();
    for (let n = 1; n <= 1500; n++) first.append('apply', { n, sha: `${n}`.padStart(40, '0'), files: ['params.txt'], description: `step ${n} ✓` });
    first.close();
    writeFileSync(file, `${readFileSync(file, 'utf8')}not json at all\n`, { flag: 'w' });
    const ledger = openTracked();
    for (let n = 1501; n <= 3000; n++) ledger.append('decide', { n, outcome: n % 7 === 0 ? 'keep' : 'discard', metric: n / 3 });
    ledger.sync();
    const written = readFileSync(file, 'utf8').replace('not json at all\n', '');
    expect(ledger.eventCount()).toBe(3000);
    expect(ledger.eventsFrom(1499).map((e) => `${e.type}:${String(e.n)}`)).toEqual(['apply:1500', ...Array.from({ length: 1500 }, (_, i) => `decide:${1501 + i}`)]);
    expect(ledger.eventsFrom(2998).map((e) => e.n)).toEqual([2999, 3000]);
    expect(ledger.eventsFrom(3000)).toEqual([]);
    expect(ledger.events().map((e) => e.n)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    expect(ledger.lastEvent()).toMatchObject({ type: 'decide', n: 3000 });

    writeFileSync(file, 'truncated\n');
    expect(ledger.restoreIfChanged()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(written);
    rmSync(file);
    expect(ledger.restoreIfChanged()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(ledger.restoreIfChanged()).toBe(false);
    ledger.append('trial.end', { n: 3000 });
    ledger.sync();
    expect(readFileSync(file, 'utf8')).toBe(`${written}{"v":1,"ts":"2026-11-27T10:02:00.000Z","type":"trial.end","n":3000}\n`);
  });

  it('reads a missing ledger as no events without creating it', async () => {
    expect(await readLedger(file)).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses fields that would overwrite the envelope', () => {
    const ledger = openTracked();
    expect(() => ledger.append('x', { type: 'y' })).toThrow(/reserved/);
    expect(ledger.events()).toEqual([]);
  });
});
