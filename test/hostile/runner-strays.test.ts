import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCommandBackend } from '../../src/agents/command-backend.js';
import type { ProposalRequest } from '../../src/agents/types.js';
import { runCommand } from '../../src/runner/execute.js';
import { createAccessPolicy } from '../../src/workspace/access-policy.js';
import { agentConfigWith } from '../helpers/agent-config.js';
import { cliPath, createTinyProject, killLeftovers, ledgerEvents, runCli, type TinyProject } from '../helpers/project.js';
import { isPidAlive, isSinglePid, killStrays } from '../helpers/processes.js';

/**
 * Issue 7, class 7: whatever an experiment or a command agent starts (setsid, nohup, a double
 * fork, a daemon) is gone when its command ends: at a normal exit, at the timeout, and, for a
 * crucible that was killed, when the next `crucible run` recovers.
 */

const linuxOnly = process.platform !== 'linux';

// Three ways out of the process group, each recording its pid in `pids`: a new session
// (setsid), a new session two forks down (the classic daemon), and nohup in a new session. The
// script waits until all three have escaped, so that the group kill cannot catch them early.
const ESCAPE_SCRIPT = `setsid sh -c 'echo $$ >> pids; exec sleep 60' < /dev/null > /dev/null 2>&1 &
( setsid sh -c '( sh -c "echo \\$\\$ >> pids; exec sleep 60" & )' < /dev/null > /dev/null 2>&1 & )
setsid nohup sh -c 'echo $$ >> pids; exec sleep 60' < /dev/null > /dev/null 2>&1 &
while [ "$(cat pids 2>/dev/null | wc -l)" -lt 3 ]; do sleep 0.05; done
`;

/** A folder holding escape.sh; `sh escape.sh` run there leaves three escaped processes. */
function escapeFolder(dir: string): string {
  writeFileSync(path.join(dir, 'escape.sh'), ESCAPE_SCRIPT);
  return dir;
}

async function readPids(file: string, count: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
    if (pids.length >= count || Date.now() > deadline) return pids;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function survivors(pids: readonly number[]): Promise<number[]> {
  // A pid file read before it was written parses as 0: that is no proof of anything.
  expect(pids.filter((pid) => !isSinglePid(pid))).toEqual([]);
  // SIGKILL is delivered at once, but a process takes a moment to become a zombie.
  const deadline = Date.now() + 1000;
  let alive = pids.filter(isPidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    alive = alive.filter(isPidAlive);
  }
  return alive;
}

describe.skipIf(linuxOnly)('processes that escape the process group', () => {
  const dirs: string[] = [];
  const strays: number[] = [];
  const projects: TinyProject[] = [];
  afterEach(() => {
    killStrays(strays.splice(0));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    for (const p of projects.splice(0)) {
      killLeftovers(p);
      p.cleanup();
    }
  });
  const makeDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crucible-hostile-strays-'));
    dirs.push(dir);
    return dir;
  };

  it('are killed when the experiment exits', async () => {
    const cwd = makeDir();
    const result = await runCommand({ command: 'sh escape.sh', cwd: escapeFolder(cwd), env: process.env, timeoutMs: 20_000, killGraceMs: 200 });
    const pids = await readPids(path.join(cwd, 'pids'), 3);
    strays.push(...pids);
    expect(result.exitCode).toBe(0);
    expect(pids).toHaveLength(3);
    expect(await survivors(pids)).toEqual([]);
  });

  it('are killed when the experiment times out', async () => {
    const cwd = makeDir();
    const result = await runCommand({ command: 'sh escape.sh; sleep 60', cwd: escapeFolder(cwd), env: process.env, timeoutMs: 1500, killGraceMs: 200 });
    const pids = await readPids(path.join(cwd, 'pids'), 3);
    strays.push(...pids);
    expect(result.timedOut).toBe(true);
    expect(pids).toHaveLength(3);
    expect(await survivors(pids)).toEqual([]);
  });

  it('are killed when a command agent ends its turn', async () => {
    const base = makeDir();
    const root = path.join(base, 'workspace');
    const artifactDir = path.join(base, 'trials', '1');
    mkdirSync(root);
    mkdirSync(artifactDir, { recursive: true });
    writeFileSync(path.join(root, 'solution.py'), 'x = 1\n');
    const request: ProposalRequest = {
      trial: 1,
      prompt: 'go',
      systemPrompt: 'be careful',
      workspace: { root, policy: createAccessPolicy({ editable: ['solution.py'], readonly: [], hidden: [] }) },
      history: [],
      objective: { name: 'loss', direction: 'minimize' },
      // The daemon writes its pid outside the workspace, so that the change stays clean.
      agentConfig: agentConfigWith({ type: 'command', timeout_seconds: 20, command: `cd ${JSON.stringify(escapeFolder(base))} && sh escape.sh && echo done` }),
      artifactDir,
    };
    await createCommandBackend({ killGraceMs: 200 }).propose(request, new AbortController().signal);
    const pids = await readPids(path.join(base, 'pids'), 3);
    strays.push(...pids);
    expect(pids).toHaveLength(3);
    expect(await survivors(pids)).toEqual([]);
  });

  it('are killed by the next crucible run when crucible was killed during the experiment', async () => {
    const project = createTinyProject({
      files: { 'daemon.sh': `setsid sh -c 'echo $$ > ../ctl/daemon.pid; exec sleep 120' < /dev/null > /dev/null 2>&1 &\nexec sleep 120\n` },
    });
    projects.push(project);
    const config = path.join(project.dir, '.crucible', 'config.yaml');
    // Only the baseline starts the daemon (it is killed with crucible right after run.start).
    writeFileSync(config, readFileSync(config, 'utf8').replace('  run: node evaluate.js > run.log 2>&1', '  run: if [ ! -e ../ctl/started ]; then touch ../ctl/started; sh daemon.sh; fi; node evaluate.js > run.log 2>&1'));
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '1'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.start:0' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const [daemon = 0] = await readPids(path.join(project.ctl, 'daemon.pid'), 1);
    strays.push(daemon);
    expect(isPidAlive(daemon)).toBe(true);

    const resumed = await runCli(project, ['run', '--tag', 't', '-n', '1']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await survivors([daemon])).toEqual([]);
    expect(ledgerEvents(project.dir, 't').find((e) => e.type === 'run.start')?.['processTag']).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe.skipIf(linuxOnly)('a ledger rewritten to name a group that was no experiment\'s', () => {
  const projects: TinyProject[] = [];
  afterEach(() => {
    for (const p of projects.splice(0)) {
      killLeftovers(p);
      p.cleanup();
    }
  });

  // The ledger is a file an unsandboxed experiment can rewrite between two runs. Recovery ends the
  // killed run's last experiment by the group it recorded: a group that holds the recovering
  // crucible itself (its shell job, the CI script that runs it) must be left alone.
  it("never makes the next crucible kill its own process group", { timeout: 60_000 }, async () => {
    const project = createTinyProject();
    projects.push(project);
    const killed = await runCli(project, ['run', '--tag', 't', '-n', '1'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.start:0' } });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');

    // The next crucible runs in a group led by a shell, as from a script; it starts once the
    // ledger names that group as the killed experiment's.
    const leaderFile = path.join(project.ctl, 'leader.pid');
    const go = path.join(project.ctl, 'go');
    const q = JSON.stringify;
    const script = `echo $$ > ${q(leaderFile)}; while [ ! -e ${q(go)} ]; do sleep 0.02; done; ${q(process.execPath)} ${q(cliPath)} run --tag t -n 1`;
    const shell = spawn('sh', ['-c', script], { cwd: project.dir, env: project.env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    shell.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => shell.on('close', (code, signal) => resolve([code, signal])));
    const [leader = 0] = await readPids(leaderFile, 1);
    expect(isSinglePid(leader)).toBe(true);

    const ledger = path.join(project.dir, '.crucible', 'runs', 't', 'ledger.jsonl');
    const lines = readFileSync(ledger, 'utf8').split('\n').filter((line) => line !== '');
    const rewritten = lines.map((line) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event['type'] !== 'run.start') return line;
      const handle = event['handle'] as Record<string, unknown> | undefined;
      return JSON.stringify({ ...event, ...(event['pgid'] !== undefined ? { pgid: leader } : {}), ...(handle ? { handle: { ...handle, pgid: leader } } : {}) });
    });
    expect(rewritten).not.toEqual(lines);
    writeFileSync(ledger, `${rewritten.join('\n')}\n`);
    writeFileSync(go, '');

    const timer = setTimeout(() => shell.kill('SIGKILL'), 50_000);
    const [code, signal] = await ended;
    clearTimeout(timer);
    expect({ code, signal, stderr: stderr.slice(-600) }).toEqual({ code: 0, signal: null, stderr: expect.any(String) });
  });
});
