import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, killLeftovers, ledgerEvents, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * Issue 7, class 6: an experiment that prints a hidden file and then fails puts that file into its
 * crash report, and the crash report goes into the next prompt. So does a stack trace through the
 * hidden harness (Node prints the throwing source line). Nothing of the hidden file may reach a
 * prompt, in the session that saw the crash or in a resumed one that reads it from the ledger.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

// The agent's code prints the hidden harness three ways (prefixed, joined on one line, verbatim),
// then fails: the crash report is the tail of run.log, where all of it landed.
const LEAKING_SOLUTION = `import { readFileSync } from 'node:fs';
const source = readFileSync(new URL('./evaluate.js', import.meta.url), 'utf8');
console.log(source.split('\\n').map((line) => 'leak> ' + line).join('\\n'));
console.log(source.replace(/\\s+/g, ' '));
console.log(source);
export const X = 1;
throw new Error('solution.js gave up after printing');
`;

function promptOf(p: TinyProject, trial: number): string {
  const file = path.join(p.dir, '.crucible', 'runs', 't', 'trials', String(trial), 'prompt.md');
  expect(existsSync(file), `trial ${trial} has a prompt.md`).toBe(true);
  return readFileSync(file, 'utf8');
}

/** The hidden file's lines that say something (the redactor's own threshold is lower). */
function meaningfulLines(text: string): string[] {
  return text.split('\n').map((line) => line.trim()).filter((line) => line.replace(/\s/g, '').length >= 12);
}

describe('hidden text in crash reports', () => {
  it('never reaches the next prompt, from a crash of the agent code or of the hidden harness, in this session or a resumed one', async () => {
    const p = createTinyProject({ agent: 'command', maxRetries: 10 });
    project = p;
    const hidden = readFileSync(path.join(p.dir, 'evaluate.js'), 'utf8');
    const hiddenLines = meaningfulLines(hidden);
    expect(hiddenLines.length).toBeGreaterThan(8);
    planAgent(p, { 1: { write: { 'solution.js': LEAKING_SOLUTION } }, 2: { x: 5 }, 3: { x: 7 } });
    // Trial 2's harness throws: Node prints the hidden line that threw, with a caret under it.
    setKnob(p, 'crash.2', 1);

    const first = await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 2 });
    expect(first.history.map((t) => t.outcome)).toEqual(['baseline', 'crash', 'crash']);
    // The user's own records keep the raw crash report.
    const decided = ledgerEvents(p.dir, 't').find((e) => e.type === 'decide' && e.n === 1);
    expect(String(decided?.['crashReport'])).toContain(hiddenLines.at(-1));

    // A new session reads trial 2's crash report back from the ledger.
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });

    const afterAgentCrash = promptOf(p, 2);
    const afterHarnessCrash = promptOf(p, 3);
    for (const line of hiddenLines) {
      expect(afterAgentCrash, `trial 2's prompt shows a hidden line`).not.toContain(line);
      expect(afterHarnessCrash, `trial 3's prompt shows a hidden line`).not.toContain(line);
    }
    expect(afterAgentCrash).not.toContain(hidden.replace(/\s+/g, ' ').slice(40, 100));
    // What the agent needs to fix its code is still there, and it is told that lines were removed.
    expect(afterAgentCrash).toContain('solution.js gave up after printing');
    expect(afterAgentCrash).toMatch(/from a hidden file removed/);
    expect(afterHarnessCrash).toContain('evaluate.js: the harness is broken');
  });
});
