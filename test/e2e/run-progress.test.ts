import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, cliPath, createTinyProject, killLeftovers, planAgent, runCli, setKnob, type TinyProject } from '../helpers/project.js';

/** What `crucible run` shows: JSON events with --json, live lines in a terminal, plain lines otherwise. */

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('crucible run output', () => {
  it('--json: one JSON object per line on stdout for every event, people\'s lines on stderr', async () => {
    project = createTinyProject({ agent: 'command' });
    planAgent(project, { 1: { x: 20 } });
    const result = await runCli(project, ['run', '--tag', 'j', '-n', '1', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { v: number; type: string; trial?: number; summary?: { outcome: string; metric: number } });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run.start');
    expect(types.at(-1)).toBe('run.end');
    expect(types.filter((t) => t === 'trial.start')).toHaveLength(2);
    expect(types).toContain('agent.done');
    expect(types).toContain('experiment.start');
    expect(events.filter((e) => e.type === 'trial.end').map((e) => [e.trial, e.summary!.outcome, e.summary!.metric])).toEqual([
      [0, 'baseline', 1],
      [1, 'keep', 20],
    ]);
    expect(events.every((e) => e.v === 1)).toBe(true);
    expect(result.stderr).toMatch(/trial\s+1\s+keep/);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('in a terminal: a live line per trial in flight, drawn in place, without colour under NO_COLOR', () => {
    project = createTinyProject({ agent: 'command' });
    planAgent(project, { 1: { x: 20, sleepMs: 1200 } });
    setKnob(project, 'sleep-ms', 1200);
    // script(1) gives the run a terminal; what the terminal received comes out on its stdout.
    const command = `${process.execPath} ${cliPath} run --tag live -n 1`;
    const result = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: project.dir, env: { ...project.env, NO_COLOR: '1', COLUMNS: '100', TERM: 'xterm' }, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const screen = result.stdout;
    expect(screen).toMatch(/▸ trial {3}0 {2}queued {4}\d+s {2}best score -/); // the baseline has no agent
    expect(screen).toMatch(/▸ trial {3}1 {2}agent {5}\d+s \/ 20s {2}best score 1/);
    expect(screen).toMatch(/▸ trial {3}1 {2}running {3}\d+s \/ 10s/);
    expect(screen).toContain('\u001b[1A\r\u001b[J'); // redrawn in place
    expect(screen).not.toMatch(new RegExp(String.raw`\u001b\[\d+m`)); // no colour
    expect(screen).toMatch(/trial\s+1\s+keep/);
  });

  it('not in a terminal: the finished trials\' lines only', async () => {
    project = createTinyProject({ agent: 'command' });
    planAgent(project, { 1: { x: 20 } });
    const result = await runCli(project, ['run', '--tag', 'p', '-n', '1']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('▸');
    expect(result.stderr).not.toContain('\u001b[');
    expect(result.stdout).toBe('');
  });
});
