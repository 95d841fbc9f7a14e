import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** Whether bubblewrap can sandbox a command on this machine, and if not, why (one line). */
export type SandboxSupport = { ok: true; bwrap: string } | { ok: false; reason: string };

// The same namespaces and mounts every sandboxed command uses: a kernel without unprivileged user
// namespaces, or a container that forbids mounting /proc, fails here rather than in a trial.
const probeArgs = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--unshare-pid', '--unshare-net', '--', '/bin/sh', '-c', ':'];
const probeTimeoutMs = 10_000;

/** The first executable `name` on the PATH of `env`, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Starts bubblewrap once with a command that does nothing. Costs one process (~10 ms); done once
 * per run and per `crucible validate`.
 */
export function detectSandbox(env: NodeJS.ProcessEnv = process.env): SandboxSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `bubblewrap runs only on Linux (this is ${process.platform})` };
  const bwrap = findOnPath('bwrap', env);
  if (bwrap === null) return { ok: false, reason: 'bwrap is not installed (Debian, Ubuntu: apt-get install bubblewrap)' };
  const probe = spawnSync(bwrap, probeArgs, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: probeTimeoutMs, encoding: 'utf8' });
  if (probe.status === 0) return { ok: true, bwrap };
  const said = (probe.stderr ?? '').split('\n').map((line) => line.trim()).find((line) => line !== '');
  const why = probe.error ? probe.error.message : (said ?? (probe.signal ? `killed by ${probe.signal}` : `exit code ${String(probe.status)}`));
  return { ok: false, reason: `bwrap cannot start here: ${why.replace(/^bwrap: /, '')}` };
}
