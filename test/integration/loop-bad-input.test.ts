import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, killLeftovers, ledgerEvents, rowOf, runCli, setKnob, type CliResult, type TinyProject } from '../helpers/project.js';

/**
 * Guarantee 6, bad input gets a clear answer: `crucible run` (the built CLI, for its exit codes and
 * printed lines) refuses with one line and its documented exit code, and changes nothing.
 */

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function errorLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('error:'));
}

/** Neither the run branch nor any record exists. */
function expectNothingCreated(p: TinyProject): void {
  expect(git(p.dir, 'branch', '--list', 'crucible/*')).toBe('');
  expect(existsSync(path.join(p.dir, '.crucible', 'runs'))).toBe(false);
  expect(existsSync(path.join(p.dir, 'results.tsv'))).toBe(false);
  expect(git(p.dir, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
}

function expectOneLine(result: CliResult): void {
  expect(errorLines(result)).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at |internal error/);
}

describe('crucible run refuses bad input', () => {
  it('an invalid config: exit 3, one line naming file:line, nothing created', async () => {
    const p = createTinyProject({ configText: 'name: tiny\nfiles:\n  editable: [solution.js]\ncommands:\n  run: node evaluate.js\n  eval: cat run.log\nmetric:\n  name: score\n  direction: upward\n' });
    project = p;
    const result = await runCli(p, ['run', '--tag', 't']);
    expect(result.code).toBe(3);
    expectOneLine(result);
    expect(errorLines(result)[0]).toMatch(/config\.yaml:9\b.*direction/);
    expectNothingCreated(p);
  });

  it('an invalid tag: exit 2, nothing created', async () => {
    const p = createTinyProject();
    project = p;
    const result = await runCli(p, ['run', '--tag', '../escape']);
    expect(result.code).toBe(2);
    expectOneLine(result);
    expect(errorLines(result)[0]).toContain('invalid run tag');
    expectNothingCreated(p);
  });

  it('uncommitted changes to an editable file: exit 4 with a way out, and the change is kept', async () => {
    const p = createTinyProject();
    project = p;
    const mine = 'export const X = 7; // @tune 1..100 int\n// my unfinished idea\n';
    writeFileSync(path.join(p.dir, 'solution.js'), mine);
    const result = await runCli(p, ['run', '--tag', 't']);
    expect(result.code).toBe(4);
    expectOneLine(result);
    expect(errorLines(result)[0]).toContain('solution.js');
    expect(result.stderr).toMatch(/commit|stash/i);
    expect(git(p.dir, 'show', ':solution.js')).not.toContain('unfinished');
    expect(git(p.dir, 'diff', '--name-only')).toBe('solution.js');
    expectNothingCreated(p);
  });

  it('--agent claude-code without that backend: exit 7 before anything is created', async () => {
    const p = createTinyProject();
    project = p;
    const result = await runCli(p, ['run', '--tag', 't', '--agent', 'claude-code']);
    expect(result.code).toBe(7);
    expectOneLine(result);
    expectNothingCreated(p);
  });

  it('a baseline that crashes: exit 1, the reason printed, recorded as a crash', async () => {
    const p = createTinyProject();
    project = p;
    setKnob(p, 'crash', 1);
    const result = await runCli(p, ['run', '--tag', 't']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Stopped: the unmodified code does not produce a valid metric: run command exited with code 1/);
    // The whole story is kept for the user (and the agent) in the ledger's crash report.
    const decided = ledgerEvents(p.dir, 't').find((e) => e.type === 'decide' && e.n === 0);
    expect(decided?.['crashReport']).toContain('Error: evaluate.js: the harness is broken');
    expect(rowOf(p.dir, 't', 0)?.['status']).toBe('crash');
    expect(rowOf(p.dir, 't', 1)).toBeUndefined();
  });
});
