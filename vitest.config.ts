import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Real git repositories and real processes: allow for a slow, shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most tests wait on real processes (experiments that sleep, git, timeouts) rather than compute:
    // two files at a time even on a 2-core machine, where vitest's default (cores − 1) runs one.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
