import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allowsExec, experimentShell } from '../../src/sandbox/experiment-shell.js';

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
