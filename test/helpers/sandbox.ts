import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { detectSandbox } from '../../src/sandbox/detect.js';
import { killStrays } from './processes.js';

/** Whether bubblewrap works on this machine; the sandbox tests skip, saying why, where it does not. */
export const sandboxSupport = detectSandbox();
/** Appended to a describe title: empty, or why its tests are skipped. */
export const skipReason = sandboxSupport.ok ? '' : ` (skipped: ${sandboxSupport.reason})`;

/** Host pids of processes whose command line (arguments joined by spaces) contains `needle`. */
export function pidsRunning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (cmdline.includes(needle) && state.slice(state.lastIndexOf(')') + 2)[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** SIGKILLs what a failed test left running (only processes whose command line holds `needle`). */
export function killRunning(needle: string): void {
  killStrays(pidsRunning(needle));
}

/**
 * Makes the test projects of this file live in /var/tmp instead of /tmp. A sandboxed command
 * gets a /tmp of its own, which hides a project under /tmp whatever else the sandbox does: a
 * test of a denial must not pass for that reason alone.
 */
export function useProjectsOutsideTmp(): void {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = '/var/tmp';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
  });
}
