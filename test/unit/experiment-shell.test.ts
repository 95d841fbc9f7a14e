import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { allowsExec, experimentShell, sweepShellCopies } from '../../src/sandbox/experiment-shell.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A mountinfo file with `mounts` ([mount point, options]) in order. */
function mountinfo(mounts: Array<[string, string]>): string {
  dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-mountinfo-'));
  const file = path.join(dir, 'mountinfo');
  writeFileSync(file, mounts.map(([point, options], i) => `${String(20 + i)} 1 0:${String(i)} / ${point.replace(/ /g, '\\040')} ${options} shared:1 - ext4 /dev/x rw`).join('\n') + '\n');
  return file;
}

describe('allowsExec', () => {
  it('reads the options of the mount a folder lies on: the longest mount point, the last one mounted there', () => {
    const file = mountinfo([
      ['/', 'rw,relatime'],
      ['/', 'rw,noexec'],
      ['/usr', 'ro,relatime'],
    ]);
    expect(allowsExec('/', file)).toBe(false);
    expect(allowsExec('/usr', file)).toBe(true);
    expect(allowsExec('/usr/lib', file)).toBe(true);
  });

  it('says yes when it cannot tell (no /proc, a folder that does not exist)', () => {
    expect(allowsExec('/', '/nonexistent/mountinfo')).toBe(true);
    expect(allowsExec('/nonexistent-folder', mountinfo([['/', 'rw,noexec']]))).toBe(true);
  });

  it('matches whole path segments, and reads the escapes of a mount point with a space', () => {
    const file = mountinfo([['/', 'rw']]);
    const spaced = path.join(dir!, 'a b');
    const sibling = path.join(dir!, 'a b2');
    mkdirSync(spaced);
    mkdirSync(sibling);
    writeFileSync(file, `${readFileSync(file, 'utf8')}99 1 0:9 / ${spaced.replace(/ /g, '\\040')} rw,noexec shared:1 - tmpfs tmpfs rw\n`);
    expect(allowsExec(spaced, file)).toBe(false);
    expect(allowsExec(sibling, file)).toBe(true);
  });
});

describe('experimentShell', () => {
  it('is a copy of /bin/sh nobody may read, made again when it is gone or changed in place', () => {
    const first = experimentShell();
    expect(first).not.toBeNull();
    expect(statSync(first!).mode & 0o7777).toBe(0o111);
    expect(statSync(first!).size).toBe(statSync('/bin/sh').size);
    expect(experimentShell()).toBe(first);

    // Made writable, then back: the same mode, but not the same file any more.
    chmodSync(first!, 0o711);
    chmodSync(first!, 0o111);
    const second = experimentShell();
    expect(second).not.toBe(first);

    rmSync(second!);
    const third = experimentShell();
    expect(third).not.toBe(second);
    expect(existsSync(third!)).toBe(true);
  });
});

describe('sweepShellCopies', () => {
  it("removes the copies of processes that are gone, this user's and this PID namespace's only", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-sweep-'));
    const namespace = readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
    // A process that has exited: its pid names no process now.
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    const plant = (name: string): string => {
      const folder = path.join(dir!, name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'sh'), '');
      chmodSync(path.join(folder, 'sh'), 0o111);
      return folder;
    };
    const dead = plant(`crucible-sh-${namespace}-${gone}-aaaaaa`);
    const live = plant(`crucible-sh-${namespace}-${String(process.ppid)}-bbbbbb`);
    const mine = plant(`crucible-sh-${namespace}-${String(process.pid)}-cccccc`);
    const elsewhere = plant(`crucible-sh-1${namespace}-${gone}-dddddd`);
    const older = plant('crucible-sh-eeeeee');
    const other = plant(`not-crucible-${namespace}-${gone}-ffffff`);
    sweepShellCopies(dir, namespace);
    expect(existsSync(dead)).toBe(false);
    for (const kept of [live, mine, elsewhere, older, other]) expect(existsSync(kept)).toBe(true);
  });

  it("sweeps when a copy is made: a killed crucible's copy goes at the next start", () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'crucible-sweep-'));
    const namespace = readlinkSync('/proc/self/ns/pid').replace(/\D/g, '');
    const gone = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim();
    const dead = path.join(dir, `crucible-sh-${namespace}-${gone}-aaaaaa`);
    mkdirSync(dead);
    // The copy of this process is made again in `dir` (it is gone from where it was).
    const current = experimentShell();
    rmSync(current!);
    const made = experimentShell({ ...process.env, TMPDIR: dir });
    expect(path.dirname(path.dirname(made!))).toBe(dir);
    expect(path.basename(path.dirname(made!))).toMatch(new RegExp(`^crucible-sh-${namespace}-${String(process.pid)}-`));
    expect(existsSync(dead)).toBe(false);
  });
});
