import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockedError } from '../../src/errors.js';
import { acquireRunLock } from '../../src/store/run-lock.js';
import type { RunLock } from '../../src/store/run-lock.js';

let dir: string;
let runDir: string;
let lockFile: string;
const held: RunLock[] = [];
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'crucible-lock-'));
  runDir = join(dir, '.crucible', 'runs', 'run1');
  lockFile = join(runDir, 'lock');
});
afterEach(() => {
  for (const lock of held.splice(0)) lock.release();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function acquire(options?: Parameters<typeof acquireRunLock>[1]): Promise<RunLock> {
  const lock = await acquireRunLock(runDir, options);
  held.push(lock);
  return lock;
}

function writeLock(content: object | string): void {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(lockFile, typeof content === 'string' ? content : JSON.stringify(content));
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

describe('run lock', () => {
  it('refuses a second holder while the first lives, and frees the run on release', async () => {
    const first = await acquire();
    expect(first.takenOverFrom).toBeNull();
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });

    const second = acquireRunLock(runDir);
    await expect(second).rejects.toBeInstanceOf(LockedError);
    await expect(second).rejects.toThrow(
      new RegExp(`^run "run1" is already running \\(pid ${process.pid} on .+ since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\); stop it first`),
    );

    first.release();
    expect(existsSync(lockFile)).toBe(false);
    expect((await acquire()).takenOverFrom).toBeNull();
  });

  it('refuses while another live process holds the lock', async () => {
    const sleeper = spawn('sleep', ['5'], { stdio: 'ignore' });
    children.push(sleeper);
    writeLock({ pid: sleeper.pid, host: hostname(), startedAt: new Date().toISOString() });
    await expect(acquireRunLock(runDir)).rejects.toThrow(`pid ${String(sleeper.pid)}`);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: sleeper.pid });
  });

  it('takes over the lock of a process that has died, and says whose it was', async () => {
    const pid = await deadPid();
    const startedAt = '2026-11-27T10:02:00.000Z';
    writeLock({ pid, host: hostname(), startedAt });
    const lock = await acquire();
    expect(lock.takenOverFrom).toEqual({ pid, host: hostname(), startedAt });
    expect(lock.takenOver).toBe(true);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(readdirSync(runDir)).toEqual(['lock']); // no leftovers
  });

  it.runIf(existsSync('/proc/self/stat'))('treats a live pid with another start time as a reused pid', async () => {
    writeLock({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), procStart: '1' });
    expect((await acquire()).takenOverFrom?.pid).toBe(process.pid);
  });

  it('takes over an unreadable lock once it is not being written any more', async () => {
    writeLock('{"pid": 12');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    const lock = await acquire();
    expect(lock.takenOver).toBe(true);
    expect(lock.takenOverFrom).toBeNull();
  });

  it('refuses a lock from another host, naming it, unless forced', async () => {
    writeLock({ pid: 4242, host: 'elsewhere', startedAt: new Date().toISOString() });
    await expect(acquireRunLock(runDir)).rejects.toThrow(/locked by pid 4242 on host elsewhere .*if that host is gone, delete .*lock$/);
    const lock = await acquire({ force: true });
    expect(lock.takenOverFrom?.host).toBe('elsewhere');
  });

  it('lets exactly one of two simultaneous takeovers win', async () => {
    const pid = await deadPid();
    for (let round = 0; round < 10; round += 1) {
      writeLock({ pid, host: hostname(), startedAt: new Date().toISOString() });
      const outcomes = await Promise.allSettled([acquireRunLock(runDir), acquireRunLock(runDir)]);
      const winners = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(winners).toHaveLength(1);
      expect(losers[0]).toBeInstanceOf(LockedError);
      winners[0]?.release();
      expect(readdirSync(runDir)).toEqual([]);
    }
  });

  it('release leaves alone a lock that someone else has taken over since', async () => {
    const lock = await acquire();
    writeLock({ pid: 4242, host: 'elsewhere', startedAt: new Date().toISOString() });
    lock.release();
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: 4242 });
  });
});
