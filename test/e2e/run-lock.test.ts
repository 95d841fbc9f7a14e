import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCliBuilt,
  createTinyProject,
  experimentPids,
  findInconsistencies,
  isProcessAlive,
  killLeftovers,
  planAgent,
  rowOf,
  runCli,
  setKnob,
  startCli,
  waitUntil,
  type CliProcess,
  type TinyProject,
} from '../helpers/project.js';

/** Trial-lifecycle property 3: one writer per run, and a dead writer's run is taken over. */

const PLAN = { 1: { x: 20 }, 2: { x: 40 }, 3: { x: 60 } };
let project: TinyProject | undefined;
const running: CliProcess[] = [];

beforeAll(() => checkCliBuilt());
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.done;
  }
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

function start(p: TinyProject, args: string[]): CliProcess {
  const cli = startCli(p, args);
  running.push(cli);
  return cli;
}

describe('the run lock', () => {
  it('refuses a second crucible run on the same tag, naming the holder, and lets a new run take over once it is dead', async () => {
    project = createTinyProject({ agent: 'command' });
    planAgent(project, PLAN);
    setKnob(project, 'sleep-ms', 20_000);
    const first = start(project, ['run', '--tag', 't', '-n', '3']);
    await waitUntil(() => experimentPids(project!).length > 0, 'the first run to start its baseline');

    const second = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(second.code).toBe(5);
    const errors = second.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`pid ${first.child.pid}`);
    expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(rowOf(project.dir, 't', 0)).toBeUndefined(); // the refused run recorded nothing

    first.child.kill('SIGKILL');
    await first.done;
    const orphan = experimentPids(project)[0]!;
    setKnob(project, 'sleep-ms', null);
    const third = await runCli(project, ['run', '--tag', 't', '-n', '2']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain('Recovered: trial 0 was interrupted');
    // The dead run's baseline experiment is killed, not left running beside the new one.
    expect(isProcessAlive(orphan)).toBe(false);
    expect(rowOf(project.dir, 't', 0)?.['status']).toBe('interrupted');
    expect(rowOf(project.dir, 't', 1)).toMatchObject({ status: 'baseline', metric_value: '1' });
    expect(rowOf(project.dir, 't', 3)?.['status']).toBe('keep');
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
  });

  it('makes a run of another tag in the same folder wait its turn (they share the folder)', async () => {
    project = createTinyProject({ agent: 'command' });
    planAgent(project, PLAN);
    setKnob(project, 'sleep-ms.t', 600);
    const first = start(project, ['run', '--tag', 't', '-n', '2']);
    await waitUntil(() => experimentPids(project!).length > 0, 'the first run to start its baseline');
    const other = await runCli(project, ['run', '--tag', 'other', '-n', '2']);
    expect(other.code).toBe(5);
    expect(other.stderr).toMatch(/another crucible run in this folder is already running \(pid \d+/);
    const done = await first.done;
    expect(done.code).toBe(0);
    expect(findInconsistencies(project.dir, 't')).toEqual([]);
    // Its turn comes once the first has finished.
    const later = await runCli(project, ['run', '--tag', 'other', '-n', '1']);
    expect(later.code).toBe(0);
    expect(findInconsistencies(project.dir, 'other')).toEqual([]);
  });
});
