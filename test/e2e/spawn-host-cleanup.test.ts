import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../../src/runner/python-spawn-host.js';
import { checkCliBuilt, createTinyProject, experimentPids, isPidAlive, killLeftovers, planAgent, setKnob, startCli, waitUntil, type CliProcess, type TinyProject } from '../helpers/project.js';

let project: TinyProject | undefined;
let cli: CliProcess | undefined;

beforeAll(() => checkCliBuilt());
afterEach(async () => {
  if (cli) {
    cli.child.kill('SIGKILL');
    await cli.done;
  }
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
  cli = undefined;
});

/** The spawn host a process started: the child of `parent` that names itself so. */
function hostOf(parent: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith('crucible spawn host')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe.skipIf(process.platform !== 'linux' || findPython() === null)('the Python spawn host when crucible dies (decisions 64)', () => {
  it('hostile: crucible killed outright mid-experiment leaves no socket folder behind', async () => {
    const p = createTinyProject({ agent: 'command' });
    project = p;
    planAgent(p, { 1: { x: 20 } });
    setKnob(p, 'sleep-ms', 3000);
    const run = startCli(p, ['run', '--tag', 't', '-n', '1'], { env: { CRUCIBLE_SPAWN_HOST: 'python' } });
    cli = run;
    await waitUntil(() => experimentPids(p).some((e) => e.trial === '1'), "trial 1's experiment");
    const host = hostOf(run.child.pid!);
    expect(host).toBeDefined();
    // Its last argument is the socket crucible listens on.
    const folder = path.dirname(readFileSync(`/proc/${host!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!);
    expect(existsSync(folder)).toBe(true);
    // SIGKILL: none of crucible's cleanup runs; the host sees its input end.
    run.child.kill('SIGKILL');
    await run.done;
    await waitUntil(() => !isPidAlive(host!), 'the host to end');
    expect(existsSync(folder)).toBe(false);
  });
});
