import { describe, expect, it } from 'vitest';
import { givenSince, type PidMark } from '../../src/runner/stray-processes.js';

const mark = (lastPid: number, forks: number, tasks = 100): PidMark => ({ lastPid, forks, tasks });
const max = 32768;

describe('the pids a command may have started (givenSince)', () => {
  it('are those given after the mark, up to the last pid given now', () => {
    const within = givenSince(mark(1000, 5000), mark(1010, 5012), max);
    expect([1001, 1005, 1010].every(within)).toBe(true);
    expect([1000, 999, 1011, 300, 32767].some(within)).toBe(false);
  });

  it('run on past the wrap, from the reserved pids up', () => {
    const within = givenSince(mark(32760, 5000), mark(305, 5020), max);
    expect([32761, 32767, 300, 301, 305].every(within)).toBe(true);
    expect([32760, 306, 1000, 16000].some(within)).toBe(false);
  });

  it('are every pid once the allocator may have gone all the way round', () => {
    // Twice the forks and the tasks alive at the mark reach the pids it cycles through.
    const forks = (max - 300 - 100) / 2;
    expect(givenSince(mark(1000, 0), mark(1005, forks - 1), max)(999)).toBe(false);
    expect(givenSince(mark(1000, 0), mark(1005, forks), max)(999)).toBe(true);
    expect(givenSince(mark(1000, 0, 40000), mark(1005, 10), max)(999)).toBe(true);
  });

  it('are every pid when the fork counter contradicts the allocator', () => {
    expect(givenSince(mark(1000, 5000), mark(1005, 4000), max)(20)).toBe(true);
    expect(givenSince(mark(1000, 5000), mark(1005, 5000), max)(20)).toBe(true);
    // No pid given, no fork: nothing can have started.
    expect(givenSince(mark(1000, 5000), mark(1000, 5000), max)(1000)).toBe(false);
  });
});
