import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localExecutor, runCommand } from '../../src/runner/execute.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { experimentSandbox, sandboxedExecutor } from '../../src/sandbox/run-sandbox.js';
import { sandboxSupport } from '../helpers/sandbox.js';
import { findPython, PythonSpawnHost } from '../../src/runner/python-spawn-host.js';
import { spawnHostKind, spawnHostPid, spawnHostReady, startDetached, useSpawnHost } from '../../src/runner/spawn-host.js';
import { findTaggedProcesses } from '../../src/runner/stray-processes.js';
import { outputOf } from '../../src/runner/host-route.js';
import type { RunSpec } from '../../src/runner/types.js';
import { isPidAlive } from '../helpers/processes.js';
import { GitError } from '../../src/errors.js';
import { createGit } from '../../src/workspace/git.js';
import { makeGitRepo, testGitEnv } from '../helpers/git-repo.js';

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Field 4 of /proc/<pid>/stat: the parent's pid. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const kinds = findPython() === null ? (['node'] as const) : (['python', 'node'] as const);

describe.skipIf(process.platform !== 'linux').each(kinds)('the spawn host in %s (decisions 63, 64)', (kind) => {
  let release: () => void = () => undefined;
  let dir = '';
  const spec = (command: string, extra: Partial<RunSpec> = {}): RunSpec => ({ command, cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 10_000, killGraceMs: 200, ...extra });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'crucible-host-'));
    process.env['CRUCIBLE_SPAWN_HOST'] = kind;
    release = useSpawnHost();
    await waitFor(spawnHostReady);
    expect(spawnHostKind()).toBe(kind);
  });
  afterEach(() => {
    release();
    delete process.env['CRUCIBLE_SPAWN_HOST'];
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts git's processes too, with the same results and errors as Node's spawn (decisions 66)", async () => {
    const repo = makeGitRepo({ 'a.txt': 'a\n' });
    try {
      // A git on PATH that says who started it, then runs the real one.
      const bin = path.join(dir, 'bin');
      mkdirSync(bin);
      const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
      writeFileSync(path.join(bin, 'git'), `#!/bin/sh\necho "$PPID" >> "${path.join(dir, 'parents')}"\nexec "${realGit}" "$@"\n`, { mode: 0o755 });
      const git = createGit(repo.dir, { env: { ...testGitEnv, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` } });
      const head = await git.headSha();
      expect(head).toMatch(/^[0-9a-f]{40}$/);
      // Input on stdin, and a non-zero exit as data or as an error.
      expect((await git.run(['hash-object', '--stdin'], { input: 'hello\n' })).stdout.trim()).toBe(execFileSync('git', ['hash-object', '--stdin'], { input: 'hello\n', encoding: 'utf8' }).trim());
      expect((await git.run(['rev-parse', '--verify', 'no-such-ref'], { allowFail: true })).exitCode).not.toBe(0);
      await expect(git.run(['rev-parse', '--verify', 'no-such-ref'])).rejects.toThrow(GitError);
      await expect(createGit(path.join(dir, 'gone'), { env: testGitEnv }).run(['status'])).rejects.toThrow(/cannot run git in/);
      const parents = readFileSync(path.join(dir, 'parents'), 'utf8').trim().split('\n').map(Number);
      expect(parents.length).toBe(4);
      expect(new Set(parents)).toEqual(new Set([spawnHostPid()]));
    } finally {
      repo.cleanup();
    }
  });

  it("gathers a process's output when its pipes ended, even closed, before anyone listened", async () => {
    const started = await startDetached({ file: '/bin/sh', args: ['-c', 'echo out; exec 2>&-'], cwd: dir, env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    if (started instanceof Error) throw started;
    // The process is done and its stderr's end (nothing on it) has been read: it may be closed.
    await started.exit;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const gathered = await Promise.race([outputOf(started, '', 1 << 20), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000))]);
    expect(gathered).not.toBe('hung');
    if (gathered === 'hung') return;
    expect(gathered.stdout.toString()).toBe('out\n');
    expect(gathered.stderr.toString()).toBe('');
    expect(gathered.exit).toEqual({ code: 0, signal: null });
  });

  it('starts each command as a session leader, a child of the host and not of crucible', async () => {
    const host = spawnHostPid();
    const result = await runCommand(spec('echo "$PPID $$ $(cut -d" " -f6 /proc/$$/stat)"'));
    expect(result.exitCode).toBe(0);
    const [parent, pid, session] = result.stdout.trim().split(' ').map(Number);
    expect(parent).toBe(host);
    expect(parent).not.toBe(process.pid);
    expect(pid).toBe(result.pgid);
    expect(session).toBe(pid);
  });

  it('hands over every byte of both outputs, and the command input from its file', async () => {
    writeFileSync(path.join(dir, 'prompt.md'), 'the prompt\n');
    // The error output starts at once, while the host is still handing the pipes over: a host that
    // read from one would take bytes away (it did, one run in three, without its readStop).
    for (let round = 0; round < 4; round++) {
      let seen = 0;
      const log = path.join(dir, `run-${round}.log`);
      const result = await runCommand(
        spec('head -c 500000 /dev/zero | tr "\\0" b >&2 & cat; head -c 3000000 /dev/zero | tr "\\0" a; wait; echo end >&2', {
          stdinPath: path.join(dir, 'prompt.md'),
          logPath: log,
          onStdout: (chunk) => {
            seen += chunk.length;
          },
        }),
      );
      expect(result.exitCode).toBe(0);
      expect(seen).toBe('the prompt\n'.length + 3_000_000);
      expect(result.stderr.endsWith('b'.repeat(1000) + 'end\n')).toBe(true);
      expect(readFileSync(log).length).toBe('the prompt\n'.length + 3_000_000 + 500_000 + 4);
    }
  });

  it('hears a command that ended before all its pipes were handed over', async () => {
    for (let round = 0; round < 3; round++) {
      // crucible busy: the host waits for its word before it hands over the next pipe, and the
      // command is long gone by then.
      const running = runCommand(spec('echo quick; echo quick >&2'));
      const busyUntil = performance.now() + 150;
      while (performance.now() < busyUntil);
      const result = await running;
      expect(result).toMatchObject({ exitCode: 0, stdout: 'quick\n', stderr: 'quick\n' });
    }
  }, 15_000);

  it('hears a sandbox-like command of six pipes that ended at once', async () => {
    for (let round = 0; round < 3; round++) {
      const started = startDetached({ file: '/bin/sh', args: ['-c', 'echo out; echo err >&2; echo five >&5'], cwd: dir, env: spec('').env, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
      const busyUntil = performance.now() + 150;
      while (performance.now() < busyUntil);
      const child = await started;
      if (child instanceof Error) throw child;
      const heard = await Promise.all(child.stdio.slice(1).map((stream) => new Promise<string>((resolve) => {
        let text = '';
        stream!.on('data', (chunk: Buffer) => (text += chunk.toString()));
        // An empty pipe may have ended and closed before anyone listened.
        if (stream!.destroyed) resolve(text);
        else stream!.on('close', () => resolve(text));
      })));
      expect(heard).toEqual(['out\n', 'err\n', '', '', 'five\n']);
      expect(await child.exit).toEqual({ code: 0, signal: null });
      child.stdio[0]!.destroy();
    }
  }, 15_000);

  it('reports exit codes, signals and a folder that does not exist as crucible does', async () => {
    expect(await runCommand(spec('exit 3'))).toMatchObject({ exitCode: 3, signal: null, shortMessage: 'exit code 3' });
    expect(await runCommand(spec('kill -TERM $$'))).toMatchObject({ exitCode: null, signal: 'SIGTERM', shortMessage: 'killed by SIGTERM' });
    const gone = path.join(dir, 'missing');
    expect((await runCommand(spec('true', { cwd: gone }))).shortMessage).toBe(`cannot start: folder ${gone} does not exist`);
  });

  it('ends the whole group at the timeout, a background job included', async () => {
    const result = await runCommand(spec('sleep 30 & echo $! > bg.pid; sleep 30', { timeoutMs: 300 }));
    expect(result.timedOut).toBe(true);
    const background = Number(readFileSync(path.join(dir, 'bg.pid'), 'utf8'));
    expect(isPidAlive(background)).toBe(false);
    expect(findTaggedProcesses(result.processTag!)).toEqual([]);
  });

  it('holds none of crucible’s environment: its own is empty but for Node’s channel', async () => {
    process.env['CRUCIBLE_TEST_SECRET'] = 'value-only-the-command-sees';
    try {
      release();
      release = useSpawnHost();
      await waitFor(spawnHostReady);
      const result = await runCommand(spec('echo "$CRUCIBLE_TEST_SECRET"', { env: { ...spec('').env, CRUCIBLE_TEST_SECRET: 'value-only-the-command-sees' } }));
      expect(result.stdout).toBe('value-only-the-command-sees\n');
      const environ = readFileSync(`/proc/${spawnHostPid()!}/environ`, 'utf8').split('\0').filter(Boolean);
      expect(environ.map((entry) => entry.split('=')[0]).sort()).toEqual(kind === 'node' ? ['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE'] : []);
    } finally {
      delete process.env['CRUCIBLE_TEST_SECRET'];
    }
  });

  it('lives through the terminal’s signals, which reach crucible’s whole process group, and so do its commands', async () => {
    const host = spawnHostPid()!;
    const running = runCommand(spec('sleep 0.4; echo done'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.kill(host, signal);
    expect(await running).toMatchObject({ exitCode: 0, stdout: 'done\n' });
    expect(isPidAlive(host)).toBe(true);
    expect(spawnHostReady()).toBe(true);
    // Its commands get the signals' usual effects.
    expect(await runCommand(spec('kill -INT $$; sleep 1'))).toMatchObject({ signal: 'SIGINT' });
  });

  it('hostile: a host killed while a command runs ends that command as a failure, and the next starts from crucible', async () => {
    const host = spawnHostPid()!;
    let started = false;
    const running = runCommand(
      spec('echo $$ > own.pid; sleep 30', {
        onSpawn: () => {
          started = true;
        },
      }),
    );
    await waitFor(() => {
      if (!started) return false;
      try {
        return Number(readFileSync(path.join(dir, 'own.pid'), 'utf8')) > 0;
      } catch {
        return false;
      }
    });
    process.kill(host, 'SIGKILL');
    const result = await running;
    expect(result).toMatchObject({ exitCode: null, signal: null, timedOut: false, shortMessage: "stopped: crucible's spawn host ended" });
    const own = Number(readFileSync(path.join(dir, 'own.pid'), 'utf8'));
    await waitFor(() => !isPidAlive(own), 2000);

    expect(spawnHostReady()).toBe(false);
    const next = await runCommand(spec('echo $PPID'));
    expect(next.exitCode).toBe(0);
    expect(Number(next.stdout.trim())).toBe(process.pid);
  });

  it('hostile: a host that dies before it starts a command starts nothing, and says so', async () => {
    const host = spawnHostPid()!;
    process.kill(host, 'SIGSTOP');
    const running = runCommand(spec('echo ran > ran.txt'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(host, 'SIGKILL');
    const result = await running;
    expect(result).toMatchObject({ exitCode: null, pgid: null, shortMessage: "cannot start: crucible's spawn host ended" });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(() => readFileSync(path.join(dir, 'ran.txt'))).toThrow();
  });

  it.skipIf(!sandboxSupport.ok)('starts the experiment’s sandbox, and a host killed during it ends the experiment as a failure', async () => {
    if (!sandboxSupport.ok) return;
    const wrap = experimentSandbox({ on: true, bwrap: sandboxSupport.bwrap, why: '' }, { enabled: true, writable: [], network: false, agent_writable: [], agent_network: true }, { projectDir: dir, readonly: [], env: process.env });
    const experiment = (runCommand: string) =>
      runExperiment({ runCommand, evalCommand: 'echo "loss: 4"', cwd: dir, env: spec('').env, timeoutMs: 20_000, metricName: 'loss', executor: sandboxedExecutor(localExecutor, wrap) });
    expect((await experiment('echo "loss: 0"')).metric).toMatchObject({ ok: true, value: 4 });

    const running = experiment('touch started; sleep 30');
    await waitFor(() => {
      try {
        readFileSync(path.join(dir, 'started'));
        return true;
      } catch {
        return false;
      }
    });
    process.kill(spawnHostPid()!, 'SIGKILL');
    const result = await running;
    expect(result.metric.ok).toBe(false);
    expect(result.run.shortMessage).toBe("stopped: crucible's spawn host ended");
  });

  it('is named as what it is, and ends when its last user lets it go', async () => {
    const host = spawnHostPid()!;
    expect(parentOf(host)).toBe(process.pid);
    expect(readFileSync(`/proc/${host}/cmdline`, 'utf8')).toMatch(/^crucible spawn host/);
    release();
    await waitFor(() => !isPidAlive(host), 5000);
    expect(spawnHostReady()).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux' || findPython() === null)('the Python spawn host’s socket (decisions 64)', () => {
  let release: () => void = () => undefined;
  let dir = '';
  const spec = (command: string): RunSpec => ({ command, cwd: dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeoutMs: 10_000, killGraceMs: 200 });
  /** The socket the host connects to: its last argument. */
  const socketPath = (): string => readFileSync(`/proc/${spawnHostPid()!}/cmdline`, 'utf8').split('\0').filter(Boolean).at(-1)!;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'crucible-host-'));
    process.env['CRUCIBLE_SPAWN_HOST'] = 'python';
    release = useSpawnHost();
    await waitFor(spawnHostReady);
  });
  afterEach(() => {
    release();
    delete process.env['CRUCIBLE_SPAWN_HOST'];
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives in a folder only this user can enter, removed when the host ends', async () => {
    const folder = path.dirname(socketPath());
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const host = spawnHostPid()!;
    release();
    await waitFor(() => !isPidAlive(host), 5000);
    expect(existsSync(folder)).toBe(false);
  });

  it('hostile: a connection that names no waiting pipe is closed unread, and the commands’ output stays theirs', async () => {
    const closed = (socket: Socket) => new Promise<void>((resolve) => socket.on('close', () => resolve()).on('error', () => undefined));
    // A forged header (a token crucible never made), then a forged metric; and one that says nothing.
    const forged = connect(socketPath());
    forged.write(`${'f'.repeat(32)}01loss: -1000\n`);
    const silent = connect(socketPath());
    await closed(forged);
    for (let i = 0; i < 3; i++) {
      const result = await runCommand(spec('echo "loss: 4"'));
      expect(result).toMatchObject({ exitCode: 0, stdout: 'loss: 4\n', stderr: '' });
    }
    const silentClosed = closed(silent);
    release();
    await silentClosed;
  });

  it('hostile: a pipe that never comes stops the command rather than waiting for it', async () => {
    // A host that says it started a command and connects none of its pipes.
    const fake = path.join(dir, 'fake-python');
    writeFileSync(
      fake,
      `#!/bin/sh\nread program\necho '{"kind":"ready"}'\nwhile read line; do setsid sleep 30 & echo "{\\"id\\":0,\\"kind\\":\\"started\\",\\"pid\\":$!}"; done\n`,
      { mode: 0o755 },
    );
    const host = new PythonSpawnHost(fake, () => undefined, 300);
    try {
      await waitFor(() => host.usable);
      const outcome = await host.start({ file: '/bin/sh', args: ['-c', 'true'], cwd: dir, env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toBe('a pipe of the command was lost on its way from the spawn host');
    } finally {
      host.close();
    }
  });

  it('gives way when it cannot start: the caller hears that it was never ready', async () => {
    const ended = await new Promise<boolean>((resolve) => new PythonSpawnHost('/bin/false', resolve));
    expect(ended).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux')('the spawn host of a run (decisions 68)', () => {
  it('a run that fails while it opens leaves no spawn host behind', async () => {
    const { startRun } = await import('../../src/loop/start-run.js');
    // A git repository with no .crucible/config.yaml: the run fails while it opens.
    const repo = makeGitRepo({ 'a.txt': 'a\n' });
    try {
      expect(spawnHostPid()).toBeUndefined();
      await expect(startRun({ projectDir: repo.dir, tag: 't', maxIterations: 1, env: { ...process.env, ...testGitEnv } })).rejects.toThrow(/config/);
      expect(spawnHostPid()).toBeUndefined();
      expect(spawnHostReady()).toBe(false);
    } finally {
      rmSync(repo.dir, { recursive: true, force: true });
    }
  });
});
