import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { isPidAlive, isProcessAlive, processStartOf } from '../helpers/processes.js';

// The tests' own yardstick for "this experiment was ended": with pids recycled within seconds on a
// busy machine (pid_max 32,768 on CI), a pid alone once named a newer process and failed a test.
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe.skipIf(process.platform !== 'linux')('a process told apart by its start time', () => {
  it('is alive while it runs, and not once its pid names a process started at another time', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    await once(child, 'spawn');
    const pid = child.pid!;
    const start = processStartOf(pid);
    expect(start).toMatch(/^\d+$/);
    expect(isProcessAlive({ pid, start })).toBe(true);
    // What a recycled pid looks like: alive by pid, another process by its start.
    expect(isPidAlive(pid)).toBe(true);
    expect(isProcessAlive({ pid, start: String(Number(start) - 1) })).toBe(false);

    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(isProcessAlive({ pid, start })).toBe(false);
    expect(processStartOf(pid)).toBe('');
  });
});
