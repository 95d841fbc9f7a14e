import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../src/loop/start-run.js';
import { createTinyProject, killLeftovers, planAgent, setKnob, type TinyProject } from '../helpers/project.js';

/**
 * With several trials in flight, the next prompt lists what is being measured: descriptions a
 * command agent wrote, which can quote the hidden harness (a shell agent can read it by absolute
 * path). That list reaches the next agent through the same redaction as the history.
 */

let project: TinyProject | undefined;
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

describe('hidden text in the list of trials in flight', () => {
  it("a description quoting the harness does not reach the next proposal's prompt", async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ agents: 2 }' });
    project = p;
    const hiddenLine = "const sleep = Number(knob('sleep-ms') ?? 0);";
    expect(readFileSync(path.join(p.dir, 'evaluate.js'), 'utf8')).toContain(hiddenLine);
    // Trial 2 makes no edit and ends once trial 1's experiment has started (agents started together
    // answer in either order); trial 1's experiment waits until trial 3's agent has answered, so
    // trial 3's prompt is written while trial 1 is measured however loaded the machine is (a 1.5 s
    // sleep was not enough once in CI).
    planAgent(p, { 1: { x: 20, say: hiddenLine }, 2: { afterRunOf: 1 }, 3: { x: 30 } });
    setKnob(p, 'wait-for.1', 'answered-3');

    await startRun({ projectDir: p.dir, tag: 't', env: p.env, maxIterations: 3 });

    const prompt = readFileSync(path.join(p.dir, '.crucible', 'runs', 't', 'trials', '3', 'prompt.md'), 'utf8');
    expect(prompt).toContain('## Being measured now');
    expect(prompt).toMatch(/trial 1\b/);
    expect(prompt).not.toContain("knob('sleep-ms')");
  });
});
