import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSignallableGroup, signalGroup } from '../../src/runner/process-group.js';

// Signal 0 only probes: these tests cannot hurt anything even when the guard is missing.
describe('signalGroup', () => {
  it.each([
    ['0 (kill(-0) is our own group)', 0],
    ['1 (kill(-1) is every process we may signal)', 1],
    ['a negative number', -42],
    ['NaN (a pid file read too early)', Number.NaN],
    ['a fraction', 12.5],
    ['our own pid', process.pid],
  ])('refuses %s', (_, pgid) => {
    expect(isSignallableGroup(pgid)).toBe(false);
    expect(signalGroup(pgid, 0)).toBe(false);
  });

  it.skipIf(process.platform !== 'linux')('refuses the group this process is in, whoever leads it', async () => {
    const { readFileSync } = await import('node:fs');
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const ownGroup = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    expect(signalGroup(ownGroup, 0)).toBe(false);
  });

  it("signals a real experiment's group, and reports it gone once it is", async () => {
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const pgid = child.pid!;
    expect(signalGroup(pgid, 0)).toBe(true);
    expect(signalGroup(pgid, 'SIGKILL')).toBe(true);
    await exited;
    expect(signalGroup(pgid, 0)).toBe(false);
  });
});
