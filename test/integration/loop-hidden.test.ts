import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { consoleReporter } from '../../src/cli/console-reporter.js';
import { createOutput } from '../../src/cli/output.js';
import { startRun } from '../../src/loop/start-run.js';
import {
  agentRecord,
  createTinyProject,
  findInconsistencies,
  killLeftovers,
  planAgent,
  readFilesOf,
  rowOf,
  type TinyProject,
} from '../helpers/project.js';

/**
 * Guarantee 2, hidden means hidden, with a scripted command agent that looks around its workspace
 * and then tries what an agent should not: edit a read-only file, create the hidden file's name,
 * and finally do nothing. Three void trials in a row (max_retries 3) end the run.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function capturedConsole(): { text: () => string; stream: Writable } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { text: () => text, stream };
}

describe('what the agent can see and change', () => {
  it('never sees the hidden file, cannot change read-only or hidden files, and the run stops after max_retries void trials', async () => {
    const p = createTinyProject({ agent: 'command', maxRetries: 3 });
    project = p;
    planAgent(p, {
      1: { x: 20 },
      2: { write: { 'package.json': '{ "type": "commonjs" }\n' } },
      3: { write: { 'evaluate.js': 'console.log("score: 1000000");\n' } },
      4: {},
    });
    const watched = ['evaluate.js', 'package.json', 'notes.txt', 'data/x.csv'];
    const before = readFilesOf(p.dir, watched);
    const screen = capturedConsole();
    const out = createOutput({ stdout: screen.stream, stderr: screen.stream, color: false });

    const report = await startRun({ projectDir: p.dir, tag: 't', env: p.env, reporter: consoleReporter(out, 'score', 'maximize') });

    for (const trial of [1, 2, 3, 4]) {
      const seen = agentRecord(p, trial);
      expect(seen, `trial ${trial} ran the agent`).not.toBeNull();
      expect(seen!.entries).toContain('solution.js');
      expect(seen!.entries).not.toContain('evaluate.js');
      expect(seen!.catHidden.ok).toBe(false);
      expect(seen!.cwd.startsWith(p.dir)).toBe(false);
    }
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('keep');
    expect(rowOf(p.dir, 't', 2)?.['status']).toBe('violation');
    expect(rowOf(p.dir, 't', 3)?.['status']).toBe('violation');
    expect(rowOf(p.dir, 't', 4)?.['status']).toBe('skip');
    const detail = (n: number): string | undefined => report.history.find((t) => t.trial === n)?.detail;
    expect(detail(2)).toContain('package.json is read-only');
    expect(detail(3)).toContain('evaluate.js is hidden');
    expect(readFilesOf(p.dir, watched)).toEqual(before);

    expect(report.reason).toEqual({ kind: 'max-retries', count: 3, what: 'void trials' });
    expect(screen.text()).toMatch(/Stopped: 3 trials in a row produced nothing to measure/);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });

  // The worktree shares the project's object store; a command agent's git gets its own empty
  // repository instead, so `git show HEAD:evaluate.js` finds nothing. (A shell can still reach
  // any file the user can: real secrecy from shell agents needs an OS sandbox.)
  it('keeps the hidden file out of reach of git in the agent workspace', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 } });
    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 1 });
    expect(agentRecord(p, 1)?.gitShow.ok).toBe(false);
  });
});
