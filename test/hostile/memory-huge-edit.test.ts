import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, cliPath, createTinyProject, findInconsistencies, killLeftovers, rowOf, type TinyProject } from '../helpers/project.js';

/**
 * Issue 7, class 3 (memory): an agent that wrote 100 MB of short lines into its editable file
 * killed crucible (V8 out of heap: the trial's diff was computed in memory over both whole files).
 * Here the built CLI runs with a 256 MB heap, and its peak resident memory is read from /proc
 * while it works: the trial must be recorded, the run must end normally, and memory must stay low.
 */

const HUGE_BYTES = 100 * 1024 * 1024;

// Replaces the scripted agent: solution.js gets a better X, then 100 MB of short comment lines.
const WRITER = `import { closeSync, openSync, writeSync } from 'node:fs';
const fd = openSync('solution.js', 'w');
writeSync(fd, 'export const X = 2; // @tune 1..100 int\\n');
const chunk = Buffer.from(Array.from({ length: 65536 }, (_, i) => '// ' + i + '\\n').join(''));
for (let written = 0; written < ${HUGE_BYTES}; written += chunk.length) writeSync(fd, chunk);
closeSync(fd);
console.log('set X to 2 and appended 100 MB of comment lines');
`;

let project: TinyProject | undefined;
beforeAll(() => checkCliBuilt());
afterEach(() => {
  if (project) {
    killLeftovers(project);
    project.cleanup();
  }
  project = undefined;
});

/** Peak resident memory (VmHWM) of a process, in MiB, or null when /proc cannot tell. */
function peakRssMiB(pid: number): number | null {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

describe('an agent that writes 100 MB into its editable file', () => {
  it('gets its trial recorded while crucible stays within a 256 MB heap', { timeout: 240_000 }, async () => {
    const p = createTinyProject({ agent: 'command', timeoutSeconds: 60 });
    project = p;
    writeFileSync(path.join(p.root, 'agent.mjs'), WRITER);

    const child = spawn(process.execPath, ['--max-old-space-size=256', cliPath, 'run', '--tag', 't', '-n', '1'], {
      cwd: p.dir,
      env: p.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    let peak = 0;
    const poll = setInterval(() => (peak = Math.max(peak, peakRssMiB(child.pid!) ?? 0)), 50);
    const killer = setTimeout(() => child.kill('SIGKILL'), 200_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearInterval(poll);
    clearTimeout(killer);
    console.log(`crucible's peak RSS with a 100 MB edit: ${peak.toFixed(0)} MiB`);

    expect({ code, signal, stderr: stderr.slice(-600) }).toEqual({ code: 0, signal: null, stderr: expect.any(String) });
    expect(rowOf(p.dir, 't', 1)?.['status']).toMatch(/^(keep|discard|crash)$/);
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
    if (peak > 0) expect(peak).toBeLessThan(200);
    // The artefact says what happened without holding 100 MB.
    const patch = path.join(p.dir, '.crucible', 'runs', 't', 'trials', '1', 'diff.patch');
    expect(existsSync(patch)).toBe(true);
    expect(statSync(patch).size).toBeLessThan(8 * 1024 * 1024);
    expect(readFileSync(patch, 'utf8')).toContain('solution.js');
  });
});
