import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/runner/execute.js';
import type { RunSpec } from '../../src/runner/types.js';
import type { SandboxSettings } from '../../src/sandbox/decide.js';
import { experimentSandbox } from '../../src/sandbox/run-sandbox.js';
import { protectedProjectPaths } from '../../src/sandbox/view.js';
import { killRunning, pidsRunning, sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * runCommand with a sandbox: the time limit, Ctrl+C and the process-group kill keep their
 * meaning (test/integration/execute.test.ts), and what the command may touch is limited.
 */

const node = JSON.stringify(process.execPath);
const settings: SandboxSettings = { enabled: true, network: false, agent_network: true, writable: [], agent_writable: [] };
// Unique per test process, so the host's process list tells which sleeps are ours.
const marker = (n: number): string => `sleep 9${n}.${process.pid}`;
const etcMarker = `/etc/crucible-sandbox-test-${process.pid}`;

describe.skipIf(!sandboxSupport.ok)(`runCommand in the sandbox${skipReason}`, () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (let n = 0; n < 5; n++) killRunning(marker(n));
    rmSync(etcMarker, { force: true });
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** A project-like folder with a .crucible/ and a .git/ to protect. */
  function makeProject(): string {
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'crucible-sbx-')));
    dirs.push(dir);
    mkdirSync(path.join(dir, '.crucible'));
    mkdirSync(path.join(dir, '.git'));
    writeFileSync(path.join(dir, '.crucible', 'config.yaml'), 'name: x\n');
    return dir;
  }

  function spec(command: string, dir: string, extra: Partial<RunSpec> = {}, network = false): RunSpec {
    const bwrap = sandboxSupport.ok ? sandboxSupport.bwrap : 'bwrap';
    const wrap = experimentSandbox({ on: true, bwrap, why: '' }, { ...settings, network }, { projectDir: dir, readonly: protectedProjectPaths(dir), env: process.env });
    return { command, cwd: dir, env: process.env, timeoutMs: 10_000, killGraceMs: 200, ...(wrap ? { sandbox: wrap } : {}), ...extra };
  }

  it('runs in the project folder, passes output and exit code, and may write only there', async () => {
    const dir = makeProject();
    const result = await runCommand(
      // As root, remounting / read-write is the first thing to try.
      spec(`pwd; echo made > out.txt; echo x >> .crucible/config.yaml || echo crucible-denied; touch .git/x || echo git-denied; mount -o remount,rw / 2>/dev/null; touch ${etcMarker} || echo etc-denied; exit 3`, dir),
    );
    expect(result.exitCode).toBe(3);
    expect(result.stdout).toBe(`${dir}\ncrucible-denied\ngit-denied\netc-denied\n`);
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('made\n');
    expect(readFileSync(path.join(dir, '.crucible', 'config.yaml'), 'utf8')).toBe('name: x\n');
    expect(existsSync(etcMarker)).toBe(false);
  });

  it('ends everything inside at the timeout: a grandchild that ignores SIGTERM, a setsid daemon', async () => {
    const dir = makeProject();
    const started = Date.now();
    const result = await runCommand(
      spec(`sh -c 'trap "" TERM; exec ${marker(1)}' & setsid ${marker(2)} & ${marker(3)}`, dir, { timeoutMs: 1000 }),
    );
    expect(result.timedOut).toBe(true);
    expect(result.shortMessage).toBe('timed out after 1s');
    expect(Date.now() - started).toBeLessThan(5000);
    expect([1, 2, 3].flatMap((n) => pidsRunning(marker(n)))).toEqual([]);
  });

  it('gives a process that handles SIGTERM its grace period to finish', async () => {
    const dir = makeProject();
    const script = "process.on('SIGTERM', () => setTimeout(() => { require('fs').writeFileSync('cleaned', 'y'); process.exit(0); }, 300)); setInterval(() => {}, 1000);";
    const result = await runCommand(spec(`${node} -e ${JSON.stringify(script)}`, dir, { timeoutMs: 500, killGraceMs: 3000 }));
    expect(result.timedOut).toBe(true);
    expect(readFileSync(path.join(dir, 'cleaned'), 'utf8')).toBe('y');
  });

  it('gives what a compound command started its grace too: a pipeline, the first of a list, on a timeout and on a cancel', async () => {
    const dir = makeProject();
    // A trainer that takes 0.3 s to save at SIGTERM, not the command's only process: the command's
    // own shell ends at SIGTERM at once. bubblewrap's first process in the sandbox lives on while
    // anything in it does (with --die-with-parent, or an init of crucible's that ended with the
    // command's shell, the trainer would be killed while it saved: seen failing so).
    const trainer = (file: string) => `sh -c "trap 'sleep 0.3; echo saved > ${file}; exit 0' TERM; while :; do sleep 0.05; done"`;
    const piped = await runCommand(spec(`${trainer('piped')} | cat`, dir, { timeoutMs: 600, killGraceMs: 3000 }));
    expect(piped.timedOut).toBe(true);
    const listed = await runCommand(spec(`${trainer('listed')}; true`, dir, { timeoutMs: 600, killGraceMs: 3000 }));
    expect(listed.timedOut).toBe(true);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 600);
    const canceled = await runCommand(spec(`cd . && ${trainer('canceled')}`, dir, { killGraceMs: 3000 }), controller.signal);
    expect(canceled.canceled).toBe(true);
    expect(['piped', 'listed', 'canceled'].map((file) => existsSync(path.join(dir, file)) && readFileSync(path.join(dir, file), 'utf8'))).toEqual(['saved\n', 'saved\n', 'saved\n']);

    // What ignores SIGTERM is still ended by the SIGKILL after the grace, and a command killed by
    // a signal is reported as before, with nothing of the shell's in its error output.
    const started = Date.now();
    const stubborn = await runCommand(spec(`sh -c "trap '' TERM; while :; do ${marker(2)}; done" | cat`, dir, { timeoutMs: 500, killGraceMs: 300 }));
    expect(stubborn.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pidsRunning(marker(2))).toEqual([]);
    const killed = await runCommand(spec('echo out; echo err >&2; kill -9 $$', dir));
    expect(killed).toMatchObject({ exitCode: 137, stdout: 'out\n', stderr: 'err\n', timedOut: false });
  });

  it('stops everything inside when the AbortSignal fires (Ctrl+C twice)', async () => {
    const dir = makeProject();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const result = await runCommand(spec(`setsid ${marker(4)} & ${marker(0)}`, dir), controller.signal);
    expect(result).toMatchObject({ canceled: true, timedOut: false });
    expect([0, 4].flatMap((n) => pidsRunning(marker(n)))).toEqual([]);
  });

  it.each([
    [false, 'ECONNREFUSED'],
    [true, 'connected'],
  ])('network: %s → a server on the host\'s 127.0.0.1 answers %s', async (network, answer) => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const script = `require('net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => console.log(e.code));`;
      const result = await runCommand(spec(`${node} -e ${JSON.stringify(script)}`, makeProject(), {}, network));
      expect(result.stdout.trim()).toBe(answer);
    } finally {
      server.close();
    }
  });

  it('ends a daemon left behind as soon as the command exits, without waiting for it', async () => {
    const dir = makeProject();
    const started = Date.now();
    const result = await runCommand(spec(`setsid ${marker(1)} > held.txt 2>&1 & echo done`, dir));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(pidsRunning(marker(1))).toEqual([]);
  });
});
