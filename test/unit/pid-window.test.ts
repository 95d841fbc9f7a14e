import { describe, expect, it } from 'vitest';
import { fewPidsSince, givenSince, onlyLeaderSince, type PidMark } from '../../src/runner/stray-processes.js';

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

describe('the pids read one by one after a command (fewPidsSince)', () => {
  it('are the few given since the mark, in order', () => {
    expect(fewPidsSince(mark(1000, 5000), mark(1003, 5003), max)).toEqual([1001, 1002, 1003]);
    expect(fewPidsSince(mark(1000, 5000), mark(1000, 5000), max)).toEqual([]);
  });

  it('are left to /proc\'s list when many, wrapped, or not bounded by the counters', () => {
    expect(fewPidsSince(mark(1000, 5000), mark(1100, 5100), max)).toBeNull();
    expect(fewPidsSince(mark(32760, 5000), mark(305, 5020), max)).toBeNull();
    expect(fewPidsSince(mark(1000, 5000), mark(1005, 4000), max)).toBeNull();
    expect(fewPidsSince(mark(1000, 5000), mark(1005, 5000), max)).toBeNull();
    expect(fewPidsSince(mark(1000, 0), mark(1005, (max - 300 - 100) / 2), max)).toBeNull();
  });
});

describe('a command that started nothing (onlyLeaderSince)', () => {
  it('is one fork since the mark, which gave the last pid: the command itself', () => {
    expect(onlyLeaderSince(mark(1000, 5000), mark(1001, 5001), 1001)).toBe(true);
  });

  it('is not when anything else was started, anywhere, or the pid is not the command\'s', () => {
    // The command forked (a pipeline, a daemon), or another process on the machine did.
    expect(onlyLeaderSince(mark(1000, 5000), mark(1002, 5002), 1001)).toBe(false);
    expect(onlyLeaderSince(mark(1000, 5000), mark(1002, 5002), 1002)).toBe(false);
    // One fork, but not the command's: the command's own start was not counted (another counter).
    expect(onlyLeaderSince(mark(1000, 5000), mark(1001, 5001), 1005)).toBe(false);
    // A counter that did not move is not the machine's.
    expect(onlyLeaderSince(mark(1001, 5000), mark(1001, 5000), 1001)).toBe(false);
  });
});
