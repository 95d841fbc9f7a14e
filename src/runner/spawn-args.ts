import type { RunSpec } from './types.js';

/** A command to run inside bubblewrap: the binary, and the arguments that describe the sandbox. */
export interface SandboxWrap {
  bwrap: string;
  /** From `bwrapArgs` (src/sandbox/bwrap-args.ts); the working folder and the command are added here. */
  args: readonly string[];
}

/**
 * The program and arguments that run `spec.command`: `/bin/sh -c` directly, or inside bubblewrap.
 *
 * bubblewrap is started without --new-session and without --die-with-parent. The child is already
 * spawned detached (a session of its own with no controlling terminal, which is what --new-session
 * guards), and --new-session would move the command out of the process group crucible ends at a
 * timeout. --die-with-parent would kill everything inside the moment SIGTERM reaches bubblewrap,
 * taking away the grace period a trainer gets to save its work. The PID namespace ends every
 * process inside, setsid ones included, once the command's first process is gone, and SIGKILL to
 * the group reaches bubblewrap's init there.
 */
export function spawnArgs(spec: Pick<RunSpec, 'command' | 'cwd' | 'sandbox'>): { file: string; args: string[] } {
  if (spec.sandbox === undefined) return { file: '/bin/sh', args: ['-c', spec.command] };
  return { file: spec.sandbox.bwrap, args: [...spec.sandbox.args, '--chdir', spec.cwd, '--', '/bin/sh', '-c', spec.command] };
}
