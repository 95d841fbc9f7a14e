import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localExecutor } from '../../src/runner/execute.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { experimentSandbox, sandboxedExecutor } from '../../src/sandbox/run-sandbox.js';
import { sandboxSupport, skipReason } from '../helpers/sandbox.js';

// Its own file: where the one-sandbox way fails, the process remembers it (module state).

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.skipIf(!sandboxSupport.ok)(`where one sandbox for both commands cannot start${skipReason}`, () => {
  it('runs the two commands in a sandbox each, and stops trying the one-sandbox way', async () => {
    if (!sandboxSupport.ok) return;
    dir = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-one-sandbox-fallback-')));
    // A bubblewrap that knows no --as-pid-1 (as if older): it says so and exits 1, as bwrap does.
    const tries = path.join(dir, 'tries.log');
    const bwrap = path.join(dir, 'bwrap');
    writeFileSync(
      bwrap,
      `#!/bin/sh\nfor a in "$@"; do if [ "$a" = --as-pid-1 ]; then echo x >> ${tries}; echo "bwrap: Unknown option --as-pid-1" >&2; exit 1; fi; done\nexec ${sandboxSupport.bwrap} "$@"\n`,
    );
    chmodSync(bwrap, 0o755);
    const wrap = experimentSandbox({ on: true, bwrap, why: '' }, { enabled: true, writable: [], network: false, agent_writable: [], agent_network: true }, { projectDir: dir, readonly: [], env: process.env });
    const starts: number[] = [];
    for (let i = 0; i < 2; i++) {
      const result = await runExperiment({
        runCommand: 'echo "loss: 0"',
        evalCommand: 'echo "loss: 4"',
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
        timeoutMs: 20_000,
        metricName: 'loss',
        logPath: path.join(dir, 'run.log'),
        executor: sandboxedExecutor(localExecutor, wrap),
        onStart: (handle) => starts.push(handle.executor === 'local' ? (handle.pgid ?? 0) : 0),
      });
      expect(result.metric).toMatchObject({ ok: true, value: 4 });
      expect(result.run.stderr).toBe('');
    }
    // The log holds the commands' output, not the failed try's complaint.
    expect(readFileSync(path.join(dir, 'run.log'), 'utf8')).toBe('loss: 0\nloss: 4\nloss: 0\nloss: 4\n');
    // Tried once; each experiment then took two sandboxes: two process groups, both recorded.
    expect(readFileSync(tries, 'utf8')).toBe('x\n');
    expect(starts).toHaveLength(4);
    expect(new Set(starts).size).toBe(4);
  });
});
