import { statSync } from 'node:fs';
import { listenToSandbox, type StartedSandbox } from './experiment-sandbox.js';
import { signalGroup } from './process-group.js';
import type { SandboxWrap } from './spawn-args.js';
import { onSpawnHostRelease, spawnHostInUse } from './spawn-host.js';
import type { ExperimentSpec } from './types.js';

/**
 * Experiment sandboxes kept for the next experiment (decisions 73). Setting one up (the
 * namespaces, the mounts, bubblewrap's own start) cost 10 to 20 ms of a trial on the machines
 * measured, more than everything else crucible does in one. Its shell runs experiments one after
 * the other, and between two it does what it did between a run and its eval: everything left
 * running is killed and what was added to the private folders removed (experiment-sandbox.ts).
 *
 * One is kept per folder and set of commands, only while a run holds the spawn host (the run's
 * end lets them go), and only while it would be the sandbox a new one would be: the same
 * bubblewrap arguments, shell, folder, commands and environment (the trial number aside, which
 * its shell is told), and every path its mounts were made from the same file, present or absent,
 * as when it started. A sandbox whose experiment was timed out, canceled or went any other way
 * than the plain one is never kept.
 */

/** The variables that differ from one experiment to the next: a kept sandbox's shell is told them. */
const PER_EXPERIMENT = new Set(['CRUCIBLE_TRIAL']);
/** What such a variable may hold to be told as a step (one line, nothing a shell reads twice). */
const STEP_VALUE = /^[A-Za-z0-9._:-]{0,200}$/;
/** bubblewrap's options that mount: their paths are what the sandbox's view was made from. */
const BINDS = new Set(['--bind', '--bind-try', '--ro-bind', '--ro-bind-try', '--dev-bind', '--dev-bind-try']);
const MOUNTS = new Set(['--tmpfs', '--dir', '--proc', '--dev', '--mqueue', '--chdir']);
/** How long a kept sandbox that was let go has to end by itself before SIGKILL. */
const closeGraceMs = 1000;

/** A started experiment sandbox and what it was started for. */
export class SandboxSession {
  /** The shell has said "ready" (a kept one has). */
  ready = false;
  /** Something came from the sandbox when nothing should have: never kept again. */
  spoiled = false;
  private ended = false;
  private handler: ((index: number, chunk: Buffer) => void) | null = null;
  private endHook: (() => void) | null = null;

  /** `key`: what it serves (sandboxKey), null when it may not be kept; `view`: sandboxView before it started. */
  constructor(
    readonly sandbox: StartedSandbox,
    readonly key: string | null,
    readonly view: string,
  ) {
    listenToSandbox(sandbox, (index, chunk) => {
      if (this.handler === null) this.spoiled = true;
      else this.handler(index, chunk);
    });
    void sandbox.exit.then(() => {
      this.ended = true;
      this.endHook?.();
    });
  }

  get alive(): boolean {
    return !this.ended && !this.spoiled;
  }

  /**
   * `hook` is called when the sandbox exits (at once if it has): one experiment's at a time, not a
   * reaction more on the exit for each of thousands of experiments.
   */
  onExit(hook: (() => void) | null): void {
    this.endHook = hook;
    if (hook !== null && this.ended) hook();
  }

  /** Where what the sandbox writes goes (descriptor index, chunk); null while it is kept idle. */
  listen(handler: ((index: number, chunk: Buffer) => void) | null): void {
    this.handler = handler;
  }

  /**
   * Ends it: its shell, waiting for a step, reads the end of its input and exits, and the sandbox
   * with it. SIGKILL follows where it has not within a second (bubblewrap's own end, as the shell
   * exits, leaves nothing for another process to reap).
   */
  close(): void {
    this.handler = null;
    this.sandbox.stepsIn.end();
    if (this.ended) return;
    const kill = setTimeout(() => signalGroup(this.sandbox.pgid, 'SIGKILL'), closeGraceMs);
    kill.unref();
    void this.sandbox.exit.then(() => clearTimeout(kill));
  }
}

const kept = new Map<string, SandboxSession>();
let hooked = false;

/** The steps that tell a kept sandbox's shell this experiment's own variables. */
export function perExperimentSteps(env: NodeJS.ProcessEnv): string[] {
  return [...PER_EXPERIMENT].filter((name) => env[name] !== undefined && STEP_VALUE.test(env[name])).map((name) => `set ${name}=${env[name]!}\n`);
}

/** What a sandbox serves: everything that made it, but the per-experiment variables' values. null: not to be kept. */
export function sandboxKey(spec: ExperimentSpec & { sandbox: SandboxWrap }, shell: string, input?: string): string | null {
  const fixed: [string, string][] = [];
  const told: string[] = [];
  for (const [name, value] of Object.entries(spec.env)) {
    if (value === undefined) continue;
    if (!PER_EXPERIMENT.has(name)) fixed.push([name, value]);
    else if (STEP_VALUE.test(value)) told.push(name);
    else return null;
  }
  fixed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([spec.sandbox.bwrap, spec.sandbox.args, shell, spec.cwd, spec.runCommand, spec.evalCommand, input ?? null, fixed, told.sort()]);
}

/** Which file each path the sandbox's mounts name is now (device, inode, kind), or that there is none. */
export function sandboxView(args: readonly string[], cwd: string): string {
  const paths: string[] = [cwd];
  for (let i = 0; i < args.length; i++) {
    const option = args[i]!;
    if (option === '--') break;
    if (BINDS.has(option)) {
      paths.push(args[i + 1] ?? '', args[i + 2] ?? '');
      i += 2;
    } else if (MOUNTS.has(option)) {
      paths.push(args[i + 1] ?? '');
      i += 1;
    }
  }
  return paths
    .map((file) => {
      const stat = file === '' ? undefined : statSync(file, { throwIfNoEntry: false });
      return stat === undefined ? '-' : `${stat.dev}:${stat.ino}:${stat.mode & 0o170000}`;
    })
    .join(' ');
}

/** The sandbox kept for `key`, taken (no longer kept), if it is alive and its view is still `view`; else null (and it is ended). */
export function keptSandbox(key: string, view: string): SandboxSession | null {
  const session = kept.get(key);
  if (session === undefined) return null;
  kept.delete(key);
  if (session.alive && session.view === view) return session;
  session.close();
  return null;
}

/**
 * Keeps `session` for the next experiment it can serve, where it may be kept; false when not
 * (the caller ends it). `noEval`: its shell waits for the eval step, and is told there is none.
 */
export function keepSandbox(session: SandboxSession, noEval: boolean): boolean {
  if (session.key === null || !session.alive || !spawnHostInUse()) return false;
  if (!hooked) {
    hooked = true;
    onSpawnHostRelease(closeKeptSandboxes);
  }
  if (noEval) session.sandbox.stepsIn.write('done\n');
  session.listen(null);
  kept.get(session.key)?.close();
  kept.set(session.key, session);
  return true;
}

/** Ends every kept sandbox (a run's end). */
export function closeKeptSandboxes(): void {
  for (const session of kept.values()) session.close();
  kept.clear();
}
