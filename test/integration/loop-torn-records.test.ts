import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoopReporter } from '../../src/loop/events.js';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, findInconsistencies, killLeftovers, resultRows, rowOf, type TinyProject } from '../helpers/project.js';

/** Trial-lifecycle property 2: a write cut short by a crash is repaired, never fatal. */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function noticeRecorder(): { notices: string[]; warnings: string[]; reporter: LoopReporter } {
  const notices: string[] = [];
  const warnings: string[] = [];
  return { notices, warnings, reporter: { notice: (m) => notices.push(m), warning: (m) => warnings.push(m) } };
}

describe('torn last lines', () => {
  it('in the ledger and in results.tsv are removed at the next run, which carries on', async () => {
    const p = createTinyProject();
    project = p;
    const first = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });
    expect(first.history.map((t) => t.trial)).toEqual([0, 1]);

    // Half-written lines for trial 2, as a power cut would leave them: the row even looks like a
    // row of trial 2 up to where it stops, so taking it for one would hide the real trial 2.
    const ledger = path.join(p.dir, '.crucible', 'runs', 't', 'ledger.jsonl');
    const results = path.join(p.dir, 'results.tsv');
    appendFileSync(ledger, '{"v":1,"ts":"2026-01-01T00:00:00.000Z","type":"trial.start","n":2,"par');
    appendFileSync(results, 'abcdef1\t99\tkeep\ttorn row\tt\t2\t2026-01-0');

    const { notices, warnings, reporter } = noticeRecorder();
    const second = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1, reporter });

    expect(notices).toContain('repaired the ledger: removed a line cut short by a crash');
    expect(notices).toContain('repaired results.tsv: removed a line cut short by a crash');
    expect(warnings).toEqual([]);
    expect(second.history.at(-1)?.trial).toBe(2);
    expect(rowOf(p.dir, 't', 2)?.['description']).not.toBe('torn row');
    expect(resultRows(p.dir, 't').map((r) => r['trial'])).toEqual(['0', '1', '2']);
    for (const file of [ledger, results]) {
      const text = readFileSync(file, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(text).not.toMatch(/"par\n|torn row/);
    }
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
