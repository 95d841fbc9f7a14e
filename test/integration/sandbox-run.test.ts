import { chmodSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import {
  checkCliBuilt,
  createTinyProject,
  experimentPids,
  findInconsistencies,
  ledgerEvents,
  planAgent,
  rowOf,
  runCli,
  setKnob,
  startCli,
  waitUntil,
  type CliProcess,
  type TinyProject,
} from '../helpers/project.js';
import { pidsRunning, sandboxSupport, skipReason } from '../helpers/sandbox.js';

/** `crucible run` and `validate` with each value of `sandbox.enabled`, where bubblewrap works and where it cannot start. */

let project: TinyProject | undefined;
let cli: CliProcess | undefined;

beforeAll(() => checkCliBuilt());
afterEach(async () => {
  if (cli) {
    cli.child.kill('SIGKILL');
    await cli.done;
  }
  project?.cleanup();
  project = undefined;
  cli = undefined;
});

function tiny(sandbox: string): TinyProject {
  project = createTinyProject({ sandbox });
  return project;
}

/** A `bwrap` first on PATH that fails as it does where user namespaces are not allowed. */
function brokenBwrapEnv(p: TinyProject): NodeJS.ProcessEnv {
  const bin = path.join(p.root, 'fake-bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'bwrap'), '#!/bin/sh\necho "bwrap: No permissions to create a new namespace" >&2\nexit 1\n');
  chmodSync(path.join(bin, 'bwrap'), 0o755);
  return { PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` };
}

describe('where bubblewrap cannot start', () => {
  it('sandbox: true refuses to run: one line, exit 4, nothing created', async () => {
    const p = tiny('true');
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1'], { env: brokenBwrapEnv(p) });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^error: sandbox: true, but bwrap cannot start here: No permissions to create a new namespace\n/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(p.dir, '.crucible', 'runs'))).toBe(false);
    expect(git(p.dir, 'branch', '--list', 'crucible/*')).toBe('');
  });

  it('sandbox: auto warns once, in one line, and runs without it', async () => {
    const p = tiny('auto');
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1'], { env: brokenBwrapEnv(p) });
    expect(result.code, result.stderr).toBe(0);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('no sandbox'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('bwrap cannot start here: No permissions to create a new namespace');
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('keep');
  });

  it('sandbox: false says nothing', async () => {
    const p = tiny('false');
    const result = await runCli(p, ['run', '--tag', 't', '-n', '1'], { env: brokenBwrapEnv(p) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/sandbox/i);
  });

  it('validate fails for sandbox: true and says why', async () => {
    const p = tiny('true');
    const result = await runCli(p, ['validate'], { env: brokenBwrapEnv(p) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\[FAIL\] Sandbox: sandbox: true, but bwrap cannot start here/);
  });
});

describe.skipIf(!sandboxSupport.ok)(`where bubblewrap works${skipReason}`, () => {
  // ctl/ is outside the project: evaluate.js and the scripted agent write their traces there.
  const SANDBOX = '{ enabled: true, writable: ["../ctl"], agent_writable: ["../ctl"] }';

  it('validate says what the sandbox allows, and the experiment runs in it', async () => {
    const p = createTinyProject({ agent: 'command', sandbox: '{ enabled: auto, writable: ["../ctl", "~/no-such-cache"] }' });
    project = p;
    const result = await runCli(p, ['validate']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\[PASS\] Sandbox: on \(bubblewrap works here\)/);
    expect(result.stdout).toMatch(/\[PASS\] Sandbox \(experiments\): network off; writes only the project folder, .*ctl, ~\/no-such-cache \(never \.crucible\/, \.git, results\.tsv\)/);
    expect(result.stdout).toMatch(/\[WARN\] Sandbox \(experiments\): missing, so not writable: ~\/no-such-cache/);
    expect(result.stdout).toMatch(/\[PASS\] Sandbox \(command agent\): network allowed; writes only its workspace, its git folder.*the project's repository is absent/);
    expect(result.stdout).toMatch(/\[PASS\] Eval\/metric: score: 1/);
  });

  it('a command agent and its experiments run a normal loop in the sandbox', async () => {
    const p = createTinyProject({ agent: 'command', sandbox: SANDBOX });
    project = p;
    planAgent(p, { 1: { x: 20 }, 2: { x: 5 } });
    // The agent's /tmp is its own: its script must lie somewhere it can see.
    copyFileSync(path.join(p.root, 'agent.mjs'), path.join(p.ctl, 'agent.mjs'));
    const result = await runCli(p, ['run', '--tag', 't', '-n', '2'], { env: { CRUCIBLE_TEST_AGENT: path.join(p.ctl, 'agent.mjs') } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/sandbox/i);
    expect(rowOf(p.dir, 't', 1)).toMatchObject({ status: 'keep', metric_value: '20' });
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'discard', metric_value: '5' });
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    // The baseline's sandbox was kept for both trials' experiments (decisions 73), and ended with the run.
    const groups = ledgerEvents(p.dir, 't')
      .filter((e) => e.type === 'run.start')
      .map((e) => e['pgid'] as number);
    expect(groups).toHaveLength(6);
    expect(new Set(groups).size).toBe(1);
    await waitUntil(() => {
      try {
        process.kill(-groups[0]!, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the kept sandbox to end with the run');
  });

  it('Ctrl+C twice stops a sandboxed experiment at once: nothing of it keeps running', async () => {
    const marker = `crucible-sbx-${process.pid}`;
    const p = createTinyProject({
      sandbox: SANDBOX,
      configText: [
        'name: tiny',
        'files: { editable: [solution.js], readonly: [package.json], hidden: [evaluate.js] }',
        `commands: { run: "setsid sleep 60 ${marker} & node evaluate.js ${marker} > run.log 2>&1", eval: cat run.log }`,
        'metric: { name: score, direction: maximize }',
        'agent: { type: tuner }',
        '',
      ].join('\n'),
    });
    project = p;
    setKnob(p, 'sleep-ms.1', 20_000);
    const base = git(p.dir, 'rev-parse', 'HEAD');
    const run = startCli(p, ['run', '--tag', 't', '-n', '3']);
    cli = run;
    await waitUntil(() => experimentPids(p).some((e) => e.trial === '1'), "trial 1's experiment");
    run.child.kill('SIGINT');
    await waitUntil(() => run.stderr().includes('Stopping after the current trial'), 'the first Ctrl+C to be seen');
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(pidsRunning(marker)).toEqual([]);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('stopped');
    expect(git(p.dir, 'rev-parse', 'crucible/t')).toBe(base);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  });
});
